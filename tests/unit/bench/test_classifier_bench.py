"""The pure parts of `make bench-classifier`: percentiles, phases, results, report."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from benchmarks.classifier.report import (
    SECTION,
    Phase,
    Round,
    combine,
    env_pairs,
    latency_summary,
    markdown,
    results,
    service_stats,
)
from benchmarks.e2e.measure import percentile
from benchmarks.e2e.report import replace_section, write_json

ISSUE_KEYS = [
    "encode_texts_per_s",
    "service_texts_per_s",
    "ratio",
    "p50_ms",
    "p99_ms",
    "peak_rss_mb",
]


def test_percentile_matches_statistics_inclusive() -> None:
    values = [float(v) for v in (7, 1, 3, 9, 4, 4, 12, 0.5, 6)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (1, 25, 50, 95, 99):
        assert percentile(values, q) == pytest.approx(cuts[q - 1])


def test_percentile_edges() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 2.0], 0) == 1.0
    assert percentile([1.0, 2.0], 100) == 2.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary() -> None:
    summary = latency_summary([float(v) for v in range(1, 101)])
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["max"] == 100.0
    assert latency_summary([]) == {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def test_phase_throughput_latency_and_accounting() -> None:
    sent = {"a": 10.0, "b": 10.5, "c": 11.0, "d": 11.0}
    got = {"a": 10.1, "b": 10.7, "c": 12.0}  # d was dead-lettered
    phase = Phase(sent, got, deadlettered=1)
    assert phase.span_s == pytest.approx(2.0)  # first produce 10.0 -> last result 12.0
    assert phase.texts_per_s == pytest.approx(1.5)
    assert sorted(phase.latencies_ms()) == pytest.approx([100.0, 200.0, 1000.0])
    assert phase.missing == 0
    summary = phase.summary()
    assert summary["classified"] == 3 and summary["sent"] == 4
    assert Phase({"a": 1.0}, {}).texts_per_s == 0.0
    assert Phase({"a": 1.0}, {}).missing == 1


def test_service_stats() -> None:
    delta = {
        "triage_consumer_batch_size_sum": 640.0,
        "triage_consumer_batch_size_count": 10.0,
        "triage_classifier_inference_seconds_sum": 9.0,
    }
    stats = service_stats(delta, span_s=10.0)
    assert stats["mean_batch"] == 64.0
    assert stats["inference_busy"] == pytest.approx(0.9)
    assert service_stats({}, 0.0)["mean_batch"] == 0.0


CORES = {"bench": 1.9, "classifier": 0.0, "tansu": 0.0, "other": 0.1}


def _round(offset: float, n: int, span: float, encode_s: float) -> Round:
    """``n`` requests produced at ``offset``, results spread evenly until offset + span."""
    sent = {f"r{offset}-{i}": offset for i in range(n)}
    got = {k: offset + span * (i + 1) / n for i, k in enumerate(sent)}
    metrics = {
        "triage_consumer_batch_size_sum": float(n),
        "triage_consumer_batch_size_count": n / 50,
        "triage_classifier_inference_seconds_sum": 0.9 * span,
    }
    return Round(
        encode_s=encode_s,
        encode_cpu_s=2 * encode_s,
        burst=Phase(sent, got),
        service_cpu_s=2.2 * span,
        metrics=metrics,
        cores={"encode": CORES, "burst": CORES},
    )


def test_combine_weighs_rounds_by_their_time() -> None:
    combined = combine([_round(0.0, 100, 2.0, 1.5), _round(100.0, 300, 8.0, 6.5)])
    enc, svc = combined["encode"], combined["service"]
    assert enc["texts"] == 400
    assert enc["texts_per_s"] == pytest.approx(400 / 8.0)  # not the mean of 66.7 and 46.2
    assert svc["texts_per_s"] == pytest.approx(400 / 10.0)
    assert enc["cpu_ms_per_text"] == pytest.approx(1000 * 16.0 / 400)
    assert svc["cpu_ms_per_text"] == pytest.approx(1000 * 22.0 / 400)
    assert svc["mean_batch"] == pytest.approx(50.0)
    assert svc["inference_busy"] == pytest.approx(0.9)
    assert svc["latency_ms"]["max"] == pytest.approx(8000.0)
    assert svc["missing"] == 0 and svc["classified"] == 400
    assert [r["texts"] for r in combined["rounds"]] == [100, 300]


def _phase(rate: float, p50: float, p99: float, missing: int = 0) -> dict[str, Any]:
    return {
        "sent": 100,
        "classified": 100 - missing,
        "deadlettered": 0,
        "missing": missing,
        "span_s": 100 / rate,
        "texts_per_s": rate,
        "latency_ms": {"p50": p50, "p95": p99, "p99": p99, "max": p99},
    }


def _raw(service_rate: float = 45.0, rss: float = 1400.0) -> dict[str, Any]:
    combined = combine(
        [_round(0.0, 50, 50 / service_rate, 1.0), _round(9.0, 50, 50 / service_rate, 1.0)]
    )
    return {
        "embedder": {"backend": "b", "name": "e5-int8", "weights_sha256": "abc", "dim": 384},
        **combined,
        "paced": _phase(service_rate / 2, 40.0, 90.0),
        "paced_rate_per_s": service_rate / 2,
        "paced_cores": CORES,
        "in_process": {
            "texts": 256,
            "encode_texts_per_s": 50.0,
            "predict_texts_per_s": 48.0,
            "classify_texts_per_s": 47.0,
        },
        "warm_up": _phase(10.0, 1.0, 2.0),
        "peak_rss_mb": {"classifier": rss, "tansu": 80.0},
        "memory_mb": [{"at": "warm-up", "rss": 1100.0, "hwm": 1200.0}, {"at": "paced"}],
    }


HOST = {"cpu": "CPU X", "cores": 2, "memory_gb": 8.0, "os": "Linux", "python": "3.11",
        "load_average_1m_at_start": 0.5}  # fmt: skip
PARAMS = {"requests": 100, "batch_size": 64, "paced_seconds": 30.0, "stages_sample": 256,
          "env": {}}  # fmt: skip


def test_results_issue_keys_first_and_json_serialisable(tmp_path: Path) -> None:
    r = results(_raw(), PARAMS, HOST)
    assert list(r)[:6] == ISSUE_KEYS
    assert r["encode_texts_per_s"] == 50.0  # 100 texts in 2 s
    assert r["service_texts_per_s"] == 45.0
    assert r["ratio"] == 0.9
    # 2 CPU-s per encode second over 2 s; 2.2 CPU-s per service second over 100 / 45 s
    assert r["cpu_ratio"] == pytest.approx(4.0 / (2.2 * 100 / 45), abs=1e-3)
    assert (r["p50_ms"], r["p99_ms"]) == (40.0, 90.0)  # the paced phase, not the bursts
    assert r["full_load_p99_ms"] > r["p99_ms"]
    assert r["peak_rss_mb"] == 1400.0
    assert r["goals_met"] == {"ratio": True, "peak_rss_mb": True, "nothing_lost": True}
    path = tmp_path / "bench-classifier.json"
    write_json(path, r)
    assert json.loads(path.read_text())["ratio"] == 0.9


def test_results_goals_not_met() -> None:
    r = results(_raw(service_rate=30.0, rss=1600.0), PARAMS, HOST)
    assert r["ratio"] == 0.6
    assert r["goals_met"]["ratio"] is False
    assert r["goals_met"]["peak_rss_mb"] is False
    assert "≥ 0.8: **no**" in markdown(r)


def test_markdown_names_the_numbers_and_the_machine() -> None:
    r = results(_raw(), PARAMS, {**HOST, "load_average_1m_at_start": 1.25})
    text = markdown(r)
    assert text.startswith(SECTION + "\n")
    assert "| 50.0 texts/s |" in text and "| 45.0 texts/s |" in text
    assert "2 bursts of 50 requests" in text
    assert "p50 40 / p99 90 ms" in text  # paced
    assert "CPU X, 2 cores" in text and "load average 1.25" in text
    assert "default settings" in text
    assert "resident/high-water MB after each phase: warm-up 1100/1200." in text
    changed = markdown(results(_raw(), {**PARAMS, "env": {"TRIAGE_X": "1"}}, HOST))
    assert "`TRIAGE_X=1`" in changed
    assert "\n## " not in text.removeprefix(SECTION)  # one section: replaceable as a whole


def test_replace_section_keeps_the_other_sections() -> None:
    doc = "# Benchmarks\n\n## A\n\na text\n\n" + SECTION + "\n\nold\n\n## B\n\nb text\n"
    out = replace_section(doc, SECTION + "\n\nnew\n", SECTION)
    assert "old" not in out and "new" in out
    assert out.index("## A") < out.index(SECTION) < out.index("## B")
    assert "a text" in out and "b text" in out
    appended = replace_section("# Benchmarks\n\n## A\n\na\n", SECTION + "\n\nnew\n", SECTION)
    assert appended.endswith(SECTION + "\n\nnew\n")
    assert replace_section(appended, SECTION + "\n\nnew\n", SECTION) == appended  # idempotent


def test_env_pairs() -> None:
    assert env_pairs(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ValueError):
        env_pairs(["nope"])


def test_freezer_without_a_process_runs_every_step_once() -> None:
    from benchmarks.classifier.stack import Freezer

    done: list[int] = []
    steps = [lambda i=i: done.append(i) for i in range(5)]
    seconds = Freezer(None, slice_s=0.0, thaw_s=0.0).timed(steps)
    assert done == [0, 1, 2, 3, 4]
    assert seconds >= 0.0
