"""Is the broker there? What ingest's ``/readyz`` answers.

A 202 needs the broker's ack, so ingest is ready only while the broker answers.
The producer alone cannot tell: it buffers and retries silently, and nothing is
sent while no request comes in. So a watcher asks the broker for its metadata
every few seconds, with a short timeout (the cheapest request every broker
answers, and one any principal allowed to produce may make), and at once when
a publish failed. Readiness follows the newest answer: it goes false within
about ``PROBE_INTERVAL_S + PROBE_TIMEOUT_S`` of the broker going away and true
again by itself at the first answer once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 2.0
PROBE_TIMEOUT_S = 2.0
MIN_GAP_S = 0.5  # between two checks, however many publishes fail meanwhile
# No answer at all for this long (the watcher itself stuck) also means not ready.
STALE_AFTER_S = 3 * (PROBE_INTERVAL_S + PROBE_TIMEOUT_S)

Ping = Callable[[float], Awaitable[bool]]


@dataclass
class BrokerHealth:
    connected: bool = False  # the producer started once
    answered_at: float | None = None  # time.monotonic() of the broker's last answer
    failed: str | None = None  # why the last check failed; None when it answered
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def answered(self, at: float) -> None:
        self.answered_at, self.failed = at, None

    def check_failed(self, why: str) -> None:
        self.failed = why

    def suspect(self) -> None:
        """A publish failed: check now rather than at the next tick."""
        self.wake.set()


def broker_problem(health: BrokerHealth, now: float) -> str | None:
    """Why ingest is not ready, or None when it is."""
    if not health.connected:
        return "not connected to the broker"
    if health.failed is not None:
        return f"the broker did not answer the last check ({health.failed})"
    if health.answered_at is not None and now - health.answered_at > STALE_AFTER_S:
        return f"no answer from the broker for {now - health.answered_at:.0f} s"
    return None


async def check_once(ping: Ping, health: BrokerHealth, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    try:
        ok = await ping(timeout_s)
    except Exception as exc:  # whatever the client raises, the answer is "no"
        ok, why = False, type(exc).__name__
    else:
        why = f"no answer within {timeout_s:g} s"
    was = health.failed is None
    if ok:
        health.answered(time.monotonic())
    else:
        health.check_failed(why)
    if ok != was:
        log.warning("broker %s", "reachable again" if ok else f"unreachable: {why}")
    return ok


async def watch_broker(
    ping: Ping, health: BrokerHealth, interval_s: float = PROBE_INTERVAL_S
) -> None:
    """Check the broker every ``interval_s``, and whenever a publish failed; forever."""
    while True:
        health.wake.clear()
        await check_once(ping, health)
        await asyncio.sleep(MIN_GAP_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(health.wake.wait(), timeout=max(0.0, interval_s - MIN_GAP_S))
