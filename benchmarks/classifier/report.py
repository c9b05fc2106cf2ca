"""bench-classifier.json and the "Classifier service benchmark" section of docs/benchmarks.md.

Pure functions only, so they are unit-tested; the writers are ``benchmarks.e2e.report``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.classifier.findings import FINDINGS
from benchmarks.e2e.measure import percentiles

SECTION = "## Classifier service benchmark"
GOALS = {"ratio": 0.8, "peak_rss_mb": 1536.0}  # 1.5 GiB, in MB of 2**20 bytes

# What the runs showed (November 2026), kept under the latest numbers.


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {**percentiles(values_ms), "max": max(values_ms, default=0.0)}


@dataclass
class Phase:
    """One load phase: when each request id was produced and when its result arrived
    (``time.perf_counter()`` seconds of the bench process), plus dead-lettered ids."""

    sent_at: dict[str, float]
    received_at: dict[str, float]
    deadlettered: int = 0

    @property
    def done(self) -> int:
        return len(self.received_at)

    @property
    def missing(self) -> int:
        return len(self.sent_at) - self.done - self.deadlettered

    @property
    def span_s(self) -> float:
        """First produce to last result."""
        if not self.sent_at or not self.received_at:
            return 0.0
        return max(self.received_at.values()) - min(self.sent_at.values())

    @property
    def texts_per_s(self) -> float:
        span = self.span_s
        return self.done / span if span > 0 else 0.0

    def latencies_ms(self) -> list[float]:
        return [(t - self.sent_at[k]) * 1000 for k, t in self.received_at.items()]

    def summary(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent_at),
            "classified": self.done,
            "deadlettered": self.deadlettered,
            "missing": self.missing,
            "span_s": self.span_s,
            "texts_per_s": self.texts_per_s,
            "latency_ms": latency_summary(self.latencies_ms()),
        }


def metric_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


@dataclass
class Round:
    """One slice of the N requests: bare ``encode`` of its texts, and the same
    requests produced at once to the service (one after the other, never together)."""

    encode_s: float
    encode_cpu_s: float  # the bench process during encode
    burst: Phase
    service_cpu_s: float  # the classifier process during the burst
    metrics: dict[str, float]  # the service's counters over the burst
    cores: dict[str, dict[str, float]]  # {"encode": {...}, "burst": {...}}: cores by process

    @property
    def texts(self) -> int:
        return len(self.burst.sent_at)

    def summary(self) -> dict[str, Any]:
        return {
            "texts": self.texts,
            "encode_texts_per_s": self.texts / self.encode_s if self.encode_s > 0 else 0.0,
            "service_texts_per_s": self.burst.texts_per_s,
            "service_span_s": self.burst.span_s,
            "cores": self.cores,
        }


def _per_text_ms(seconds: float, texts: int) -> float:
    return 1000 * seconds / texts if texts else 0.0


def combine(rounds: Sequence[Round]) -> dict[str, Any]:
    """Rates over all rounds: texts / summed time, so every slice weighs its length."""
    texts = sum(r.texts for r in rounds)
    encode_s = sum(r.encode_s for r in rounds)
    span_s = sum(r.burst.span_s for r in rounds)
    done = sum(r.burst.done for r in rounds)
    delta: dict[str, float] = {}
    for r in rounds:
        for k, v in r.metrics.items():
            delta[k] = delta.get(k, 0.0) + v
    latencies = [ms for r in rounds for ms in r.burst.latencies_ms()]
    encode = {
        "texts": texts,
        "texts_per_s": texts / encode_s if encode_s > 0 else 0.0,
        "cpu_ms_per_text": _per_text_ms(sum(r.encode_cpu_s for r in rounds), texts),
    }
    service = {
        "sent": texts,
        "classified": done,
        "deadlettered": sum(r.burst.deadlettered for r in rounds),
        "missing": sum(r.burst.missing for r in rounds),
        "span_s": span_s,
        "texts_per_s": done / span_s if span_s > 0 else 0.0,
        "cpu_ms_per_text": _per_text_ms(sum(r.service_cpu_s for r in rounds), done),
        "latency_ms": latency_summary(latencies),
        **service_stats(delta, span_s),
    }
    return {"encode": encode, "service": service, "rounds": [r.summary() for r in rounds]}


def service_stats(delta: Mapping[str, float], span_s: float) -> dict[str, float]:
    """Mean consumed batch and the share of the span the service spent classifying."""
    batches = delta.get("triage_consumer_batch_size_count", 0.0)
    inference = delta.get("triage_classifier_inference_seconds_sum", 0.0)
    return {
        "batches": batches,
        "mean_batch": delta.get("triage_consumer_batch_size_sum", 0.0) / batches
        if batches
        else 0.0,
        "inference_s": inference,
        "inference_busy": inference / span_s if span_s > 0 else 0.0,
    }


def results(raw: Mapping[str, Any], params: Mapping[str, Any], host: Mapping[str, Any]) -> dict:
    """The six keys the issue asks for first, then what explains them."""
    encode, service, paced = raw["encode"], raw["service"], raw["paced"]
    ratio = service["texts_per_s"] / encode["texts_per_s"] if encode["texts_per_s"] else 0.0
    cpu_ratio = (
        encode["cpu_ms_per_text"] / service["cpu_ms_per_text"] if service["cpu_ms_per_text"] else 0
    )
    out: dict[str, Any] = {
        "encode_texts_per_s": round(encode["texts_per_s"], 2),
        "service_texts_per_s": round(service["texts_per_s"], 2),
        "ratio": round(ratio, 3),
        "p50_ms": round(paced["latency_ms"]["p50"], 1),
        "p99_ms": round(paced["latency_ms"]["p99"], 1),
        "peak_rss_mb": round(raw["peak_rss_mb"]["classifier"], 1),
    }
    out["goals_met"] = {
        "ratio": out["ratio"] >= GOALS["ratio"],
        "peak_rss_mb": out["peak_rss_mb"] < GOALS["peak_rss_mb"],
        "nothing_lost": service["missing"] == 0 and paced["missing"] == 0,
    }
    out["cpu_ratio"] = round(cpu_ratio, 3)  # CPU per text, encode / service: noise-proof
    out["full_load_p50_ms"] = round(service["latency_ms"]["p50"], 1)
    out["full_load_p99_ms"] = round(service["latency_ms"]["p99"], 1)
    out["paced_rate_per_s"] = round(raw["paced_rate_per_s"], 2)
    out["requests"] = params["requests"]
    out["batch_size"] = params["batch_size"]
    out["embedder"] = raw["embedder"]
    out["details"] = rounded(
        {k: v for k, v in raw.items() if k not in {"embedder", "paced_rate_per_s"}}
    )
    out["parameters"] = dict(params)
    out["machine"] = dict(host)
    out["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return out


def rounded(data: Any) -> Any:
    if isinstance(data, float):
        return round(data, 3)
    if isinstance(data, Mapping):
        return {k: rounded(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [rounded(v) for v in data]
    return data


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _rows(r: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    d, g = r["details"], r["goals_met"]
    rounds = len(d["rounds"])
    return [
        (
            f"bare `encode` of {r['embedder']['name']}, batches of {r['batch_size']}, "
            "in the bench process",
            f"{r['encode_texts_per_s']:.1f} texts/s",
            "",
        ),
        (
            f"classifier service via the broker ({rounds} bursts of "
            f"{r['requests'] // max(rounds, 1)} requests produced at once)",
            f"{r['service_texts_per_s']:.1f} texts/s",
            "",
        ),
        ("ratio service / encode", f"{r['ratio']:.2f}", f"≥ 0.8: {_yes(g['ratio'])}"),
        (
            "CPU per text, `encode` / service",
            f"{d['encode']['cpu_ms_per_text']:.1f} / {d['service']['cpu_ms_per_text']:.1f} ms "
            f"({r['cpu_ratio']:.2f})",
            "",
        ),
        (
            f"latency at {r['paced_rate_per_s']:.1f} requests/s (half the service's rate): "
            "`p50_ms`, `p99_ms`",
            f"p50 {r['p50_ms']:.0f} / p99 {r['p99_ms']:.0f} ms",
            "",
        ),
        (
            "latency at full load (each burst queued at once)",
            f"p50 {r['full_load_p50_ms']:.0f} / p99 {r['full_load_p99_ms']:.0f} ms",
            "",
        ),
        (
            "peak RSS of the classifier process (children included)",
            f"{r['peak_rss_mb']:.0f} MB",
            f"< 1536 MB (1.5 GiB): {_yes(g['peak_rss_mb'])}",
        ),
    ]


def _cores(phase: Mapping[str, float]) -> str:
    ours = sum(v for k, v in phase.items() if k != "other")
    return f"{ours:.1f}/{phase['other']:.1f}"


def _detail_lines(r: Mapping[str, Any]) -> list[str]:
    d = r["details"]
    svc, paced, pipe = d["service"], d["paced"], d["in_process"]
    per_round = ", ".join(
        f"{x['encode_texts_per_s']:.0f}/{x['service_texts_per_s']:.0f} "
        f"({_cores(x['cores']['encode'])}, {_cores(x['cores']['burst'])})"
        for x in d["rounds"]
    )
    return [
        f"Service: consumed batches averaged {svc['mean_batch']:.1f} requests; classifying "
        f"kept it busy {100 * svc['inference_busy']:.0f}% of the bursts' span "
        f"({svc['span_s']:.1f} s, first produce to last result). "
        f"In-process on {pipe['texts']} of the texts (mean {pipe.get('mean_chars', 0):.0f} "
        "characters after masking), back to back: bare `encode` "
        f"{pipe['encode_texts_per_s']:.1f}, `predict` (embedder + TF-IDF + heads + "
        f"neighbours) {pipe['predict_texts_per_s']:.1f}, the service's whole `classify` "
        f"(masking, language, cues, events too) {pipe['classify_texts_per_s']:.1f} texts/s."
        + _memory_line(d.get("memory_mb", [])),
        "",
        f"Per round, texts/s encode/service (cores busy, ours/other processes, of "
        f"{r['machine']['cores']}): {per_round}; paced phase "
        f"{_cores(d['paced_cores'])}. Results: bursts {svc['classified']}/{svc['sent']} "
        f"classified, paced {paced['classified']}/{paced['sent']} "
        f"({svc['deadlettered'] + paced['deadlettered']} dead-lettered, "
        f"{svc['missing'] + paced['missing']} missing). Raw numbers: `bench-classifier.json`.",
    ]


def _memory_line(points: Sequence[Mapping[str, Any]]) -> str:
    """Where the service's memory peaked: resident / high-water mark after each phase."""
    shown = [p for p in points if "rss" in p]
    if not shown:
        return ""
    steps = ", ".join(f"{p['at']} {p['rss']:.0f}/{p['hwm']:.0f}" for p in shown)
    return f" Service memory, resident/high-water MB after each phase: {steps}."


def markdown(r: Mapping[str, Any]) -> str:
    m = r["machine"]
    table = ["| measure | result | goal |", "|---|---:|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in _rows(r)]
    env = r["parameters"].get("env") or {}
    settings = (
        "Settings changed for this run: " + ", ".join(f"`{k}={v}`" for k, v in env.items()) + "."
        if env
        else "The service ran with its default settings."
    )
    rounds = len(r["details"]["rounds"])
    return "\n".join(
        [
            SECTION,
            "",
            "`make bench-classifier` (`python -m benchmarks.classifier.run`, not a timed test): "
            "a private tansu broker and one classifier process with the default model. "
            f"The same {r['requests']} requests (varied demo-corpus texts, masked as the "
            "service masks them) go through (a) the embedder's bare `encode` in the bench "
            "process, the service frozen meanwhile (SIGSTOP, in slices of 2.5 s so that it "
            "keeps its consumer group), and (b) the service: produced at once with "
            "aiokafka (acks=all), results read from `request.classified` with the pipeline's "
            "fetch settings. Service texts/s = requests / (last result − first produce). "
            f"The requests are cut into {rounds} rounds that alternate (a) and (b), so both "
            "see the same share of whatever else runs on the machine. Latency = result read "
            "− produce, per request: `p50_ms`/`p99_ms` come from a paced phase at half the "
            "service's rate (one arrival every 1/rate s); at full load it is mostly time spent "
            "queued behind the burst. CPU per text: the bench process during `encode`, the "
            "service process during the bursts. Peak RSS: the service process, sampled every "
            "100 ms and read from its kernel high-water mark, from start (model load) to stop.",
            "",
            f"One run, finished {r['finished_at']}. Machine: {m['cpu']}, {m['cores']} cores, "
            f"{m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}; load average "
            f"{m['load_average_1m_at_start']} at the start. {settings}",
            "",
            *table,
            "",
            *_detail_lines(r),
            "",
            FINDINGS,
        ]
    )


def env_pairs(items: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (``--env``) as a dict; a missing ``=`` is an error."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out
