"""Token-bucket rate limits per key (a user, a source, a client address).

Each key gets ``burst`` requests at once and ``per_minute`` more every minute.
``check`` is pure arithmetic on a clock the caller passes, so the decision is
tested without time passing. Memory is bounded: the least recently seen keys
are forgotten beyond ``max_keys`` (a forgotten key starts with a full bucket,
which only ever errs towards letting a request through).

Limits are per process: with N replicas a caller may get up to N times the
limit, which is enough to stop a runaway script or a password-guessing loop.
No maintained library fits without a new dependency and a shared store
(``limits``/``slowapi`` would need Redis for cross-replica counts).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    per_minute: float
    burst: int
    max_keys: int = 10_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def check(self, key: str, now: float | None = None) -> int | None:
        """None when the request may go, else the seconds to wait (the Retry-After)."""
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * rate)
        wait: int | None = None
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = max(1, math.ceil((1.0 - tokens) / rate))
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait
