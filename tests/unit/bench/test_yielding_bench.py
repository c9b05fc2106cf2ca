"""The OCR-next-to-plain-text bench's report (no model, no worker)."""

from __future__ import annotations

from typing import Any

from benchmarks.documents.yielding import NO_OCR, SECTION, markdown


def _condition(p99: float, rate: float, pages: float) -> dict[str, Any]:
    return {
        "paced_latency_ms": {"p50": 100.0, "p95": 200.0, "p99": p99},
        "burst_texts_per_s": rate,
        "ocr_pages_per_min": pages,
    }


def test_each_nice_level_is_compared_with_no_ocr() -> None:
    data = {
        "args": {"rounds": 2, "paced": 30, "rate": 2.0, "burst": 64, "batch": 32},
        "load_average_1m": [9.5, 10.0],
        "conditions": {
            NO_OCR: _condition(300.0, 3.0, 0.0),
            "nice 0": _condition(900.0, 1.5, 6.0),
            "nice 10": _condition(320.0, 3.0, 4.0),
        },
    }
    text = markdown(data)
    assert text.startswith(SECTION) and "load average 9.5 at the start" in text
    assert "| nice 0 | 100 / 200 / 900 ms | 1.5 (0.50) | 6.0 |" in text
    assert "| nice 10 | 100 / 200 / 320 ms | 3.0 (1.00) | 4.0 |" in text
