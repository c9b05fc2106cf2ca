"""Logging setup: one line per record, text or JSON, configured in ``main``.

Log records must never carry request text; ``shared.pii.mask`` is applied to
every formatted message as a second line of defence against identifiers.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


def _mask(text: str) -> str:
    from shared.pii import mask  # late import keeps logging usable if pii fails to import

    return mask(text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": _mask(record.getMessage()),
        }
        for key in ("service", "request_id", "topic", "partition", "offset"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = _mask(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


class MaskingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _mask(super().format(record))


def setup_logging(level: str = "INFO", fmt: str = "text", service: str = "triage") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            MaskingTextFormatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty at INFO about group joins on every rebalance.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
