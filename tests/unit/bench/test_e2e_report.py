"""The end-to-end report: the reference ratio of issue 18 and the goals it checks."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from benchmarks.e2e.measure import Ceiling
from benchmarks.e2e.reference import Reference
from benchmarks.e2e.report import markdown, results

HOST = {
    "cpu": "test cpu",
    "cores": 2,
    "memory_gb": 8.0,
    "os": "Linux",
    "python": "3.11",
    "load_average_1m_at_start": 0.5,
}
OPTIONS = SimpleNamespace(requests=100, concurrency=8, latency_seconds=5.0, batch_size=64, env=())
PCTS = {"p50": 40.0, "p95": 90.0, "p99": 120.0}


def _raw(reference_s: float, ceiling_s: float, e2e_rps: float) -> dict[str, Any]:
    ceiling = Ceiling(texts=1000, seconds=ceiling_s, batch_size=64)
    ceiling.single_ms = PCTS
    return {
        "reference": Reference(texts=1000, seconds=reference_s, folder="e5-st"),
        "ceiling": ceiling,
        "e2e": {
            "sent": 100,
            "accepted": 100,
            "queued": 100,
            "requests_per_s": e2e_rps,
            "classifier_mean_batch": 60.0,
            "classifier_inference_busy": 0.95,
        },
        "latency": {
            "sent": 50,
            "accepted": 50,
            "queued": 50,
            "rate_per_s": 10.0,
            "latency_ms": PCTS,
            "http_202_ms": PCTS,
            "accepted_to_classified_ms": PCTS,
            "classified_to_queued_ms": PCTS,
        },
        "ingest": {
            "sent": 100,
            "requests_per_s": 3000.0,
            "raw_producer_messages_per_s": 5000.0,
            "batch_endpoint_requests_per_s": 6000.0,
            "batch_endpoint_size": 50,
        },
        "duplicates": 0,
        "peak_rss_mb": {"classifier": 900.0},
        "duration_s": 60.0,
    }


def test_ceiling_is_reported_against_the_reference_of_the_same_run() -> None:
    r = results(_raw(reference_s=40.0, ceiling_s=5.0, e2e_rps=190.0), OPTIONS, HOST)
    assert r["reference_texts_per_s"] == 25.0
    assert r["ceiling_to_reference_ratio"] == 8.0
    assert r["goals_met"]["ceiling_to_reference_ratio"]
    assert r["goals_met"]["e2e_to_ceiling_ratio"]  # 190 / 200 = 0.95
    assert r["details"]["reference"] == {
        "texts": 1000,
        "seconds": 40.0,
        "folder": "e5-st",
        "batch_size": 64,
    }
    json.dumps(r)  # bench-results.json


def test_goals_not_met_below_five_times_the_reference_or_0_9_of_the_ceiling() -> None:
    r = results(_raw(reference_s=40.0, ceiling_s=10.0, e2e_rps=85.0), OPTIONS, HOST)
    assert r["ceiling_to_reference_ratio"] == 4.0
    assert not r["goals_met"]["ceiling_to_reference_ratio"]
    assert not r["goals_met"]["e2e_to_ceiling_ratio"]  # 85 / 100
    table = markdown(r)
    assert "| 25.0 texts/s |" in table
    assert "4.00 of reference | ≥ 5: **no** |" in table
    assert "≥ 0.9: **no**" in table
