"""The phases of one end-to-end benchmark run, on one local stack.

1. reference and ceiling: plain sentence-transformers (float e5) then the classifier's
   embedder + model, in this process, on the same texts;
2. end-to-end throughput: N requests, ``concurrency`` in flight, until all are queued;
3. latency at about half that throughput: a fixed arrival rate for a while;
4. ingest alone (classifier and router stopped) next to a bare aiokafka producer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.e2e import loadgen
from benchmarks.e2e.corpus import requests_for
from benchmarks.e2e.measure import (
    Database,
    MemoryMonitor,
    masked_texts,
    measure_ceiling,
    percentiles,
    postmaster_pid,
    raw_producer_rate,
    received_event,
    scrape,
)
from benchmarks.e2e.reference import measure_reference
from stack.up import LocalStack

log = logging.getLogger(__name__)

BATCH = 50  # requests per batch call in the ingest-only phase
BATCH_CALLS_DIVISOR = 8  # batch calls in flight: concurrency / 8 (4 for 32)

CLASSIFIER_METRICS = (
    "triage_classifier_inference_seconds_sum",
    "triage_classifier_inference_seconds_count",
    "triage_consumer_batch_size_sum",
    "triage_consumer_batch_size_count",
)


@dataclass(frozen=True)
class Options:
    requests: int = 5000
    concurrency: int = 32
    latency_seconds: float = 60.0
    latency_rate: float | None = None  # default: half the measured end-to-end rate
    ceiling_texts: int | None = None  # default: all N texts
    pipeline_sample: int = 512
    batch_size: int = 64
    drain_timeout_s: float = 3600.0
    run_id: str = ""
    env: tuple[tuple[str, str], ...] = ()  # extra settings given to the services


def _tag(options: Options, phase: str) -> str:
    return f"bench{options.run_id}-{phase}"


async def _post(stack: LocalStack, bodies: list[dict[str, Any]], **mode: Any) -> loadgen.Run:
    url = stack.running["ingest"].url
    posts = loadgen.encode_posts(url, stack.env["TRIAGE_DEMO_API_KEY"], bodies)
    if "rate" in mode:
        return await loadgen.open_loop(url, posts, mode["rate"], mode["label"])
    return await loadgen.closed_loop(url, posts, mode["concurrency"], mode["label"])


def _refused(run: loadgen.Run) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in run.outcomes:
        if o.status != 202:
            out[str(o.status)] = out.get(str(o.status), 0) + 1
    return out


async def end_to_end(stack: LocalStack, db: Database, options: Options) -> dict[str, Any]:
    tag = _tag(options, "e2e")
    bodies = requests_for(tag, options.requests)
    before = scrape(stack.running["classifier"].url, CLASSIFIER_METRICS)
    run = await _post(stack, bodies, concurrency=options.concurrency, label="end-to-end: post")
    accepted = len(run.accepted())
    queued = await db.wait_queued(tag, accepted, options.drain_timeout_s, "end-to-end: queued")
    span = await db.span_s(tag)
    after = scrape(stack.running["classifier"].url, CLASSIFIER_METRICS)
    delta = {k: after[k] - before[k] for k in CLASSIFIER_METRICS}
    batches = delta["triage_consumer_batch_size_count"] or 1.0
    return {
        "sent": len(bodies),
        "accepted": accepted,
        "refused": _refused(run),
        "queued": queued,
        "post_s": round(run.wall_s, 2),
        "span_s": round(span, 2),
        "requests_per_s": queued / span if span else 0.0,
        "classifier_mean_batch": delta["triage_consumer_batch_size_sum"] / batches,
        "classifier_inference_busy": delta["triage_classifier_inference_seconds_sum"] / span
        if span
        else 0.0,
    }


async def latency(stack: LocalStack, db: Database, options: Options, rate: float) -> dict[str, Any]:
    tag = _tag(options, "latency")
    n = max(50, int(rate * options.latency_seconds))
    bodies = requests_for(tag, n)
    run = await _post(stack, bodies, rate=rate, label=f"latency @ {rate:.1f}/s")
    accepted = len(run.accepted())
    queued = await db.wait_queued(tag, accepted, options.drain_timeout_s, "latency: queued")
    http_ms = [(o.answered_s - o.sent_s) * 1000 for o in run.accepted()]
    parts = await db.latencies_ms(tag)
    return {
        "rate_per_s": rate,
        "sent": n,
        "accepted": accepted,
        "refused": _refused(run),
        "queued": queued,
        "achieved_rate_per_s": n / run.wall_s if run.wall_s else 0.0,
        "latency_ms": percentiles(parts["total"]),
        "accepted_to_classified_ms": percentiles(parts["to_classified"]),
        "classified_to_queued_ms": percentiles(parts["classified_to_queued"]),
        "http_202_ms": percentiles(http_ms),
    }


async def ingest_only(stack: LocalStack, options: Options) -> dict[str, Any]:
    """Ingest with nobody consuming, then a bare producer with the same messages."""
    for name in ("classifier", "router"):
        stack.stop_service(name)
    tag = _tag(options, "ingest")
    bodies = requests_for(tag, options.requests)
    run = await _post(stack, bodies, concurrency=options.concurrency, label="ingest only")
    accepted = run.accepted()
    ingest_rps = len(accepted) / (max(o.answered_s for o in accepted) - run.started_s)
    batch = await _post_batches(stack, requests_for(f"{tag}-batch", options.requests), options)
    from shared.kafka import ensure_topics
    from shared.settings import KafkaSettings

    topic = "bench.raw-producer"
    bootstrap = stack.env["TRIAGE_KAFKA_BOOTSTRAP"]
    settings = KafkaSettings(kafka_bootstrap=bootstrap)
    await ensure_topics(settings, [topic])
    raw_rps, raw_s = await raw_producer_rate(
        bootstrap, topic, bodies, options.concurrency, settings.kafka_linger_ms
    )
    return {
        "sent": len(bodies),
        "accepted": len(accepted),
        "refused": _refused(run),
        "requests_per_s": ingest_rps,
        "post_s": round(run.wall_s, 2),
        "raw_producer_messages_per_s": raw_rps,
        "raw_producer_s": round(raw_s, 2),
        "batch_endpoint_requests_per_s": batch.items / batch.wall_s,
        "batch_endpoint_size": BATCH,
        "batch_endpoint_accepted": batch.items,
    }


async def _post_batches(
    stack: LocalStack, bodies: list[dict[str, Any]], options: Options
) -> loadgen.Run:
    """The same requests through ``POST /v1/requests:batch``, BATCH per call."""
    url = stack.running["ingest"].url
    calls = [{"requests": bodies[i : i + BATCH]} for i in range(0, len(bodies), BATCH)]
    posts = loadgen.encode_posts(
        url, stack.env["TRIAGE_DEMO_API_KEY"], calls, path="/v1/requests:batch"
    )
    concurrency = max(1, options.concurrency // BATCH_CALLS_DIVISOR)
    return await loadgen.closed_loop(url, posts, concurrency, "ingest only: batches")


def monitor_for(stack: LocalStack) -> MemoryMonitor:
    pids = {name: s.proc.pid for name, s in stack.running.items() if s.proc is not None}
    if stack.broker is not None and stack.broker.proc is not None:
        pids["tansu"] = stack.broker.proc.pid
    if stack.postgres is not None and (pid := postmaster_pid(stack.postgres.data_dir)):
        pids["postgres"] = pid
    return MemoryMonitor(pids)


def run_all(stack: LocalStack, options: Options) -> dict[str, Any]:
    """Every phase on a started stack; returns the raw measurements."""
    monitor = monitor_for(stack)
    monitor.start()
    db = Database(stack.env["TRIAGE_DATABASE_URL"])
    texts = requests_for(_tag(options, "e2e"), options.ceiling_texts or options.requests)
    log.info("ceiling: %d texts through the embedder and model in-process", len(texts))
    started = time.monotonic()
    # The fixed yardstick first, on the very texts the ceiling embeds (issue 18).
    reference = measure_reference(masked_texts([received_event(b) for b in texts]))
    ceiling = measure_ceiling(texts, options.batch_size, options.pipeline_sample)
    log.info("end-to-end: %d requests, %d in flight", options.requests, options.concurrency)
    e2e = asyncio.run(end_to_end(stack, db, options))
    rate = options.latency_rate or max(1.0, round(e2e["requests_per_s"] / 2, 1))
    log.info("latency: %.1f requests/s for %.0f s", rate, options.latency_seconds)
    lat = asyncio.run(latency(stack, db, options, rate))
    log.info("ingest alone, then a bare producer")
    ingest = asyncio.run(ingest_only(stack, options))
    duplicates = asyncio.run(db.duplicates(f"bench{options.run_id}"))
    return {
        "reference": reference,
        "ceiling": ceiling,
        "e2e": e2e,
        "latency": lat,
        "ingest": ingest,
        "duplicates": duplicates,
        "peak_rss_mb": monitor.stop(),
        "duration_s": round(time.monotonic() - started, 1),
    }


def start_stack(state_dir: Path, extra_env: dict[str, str] | None = None) -> LocalStack:
    """The whole stack with production durability (fsync on), plus ``extra_env``."""
    stack = LocalStack(state_dir, fast_db=False, extra_env=dict(extra_env or {}))
    stack.start()
    return stack
