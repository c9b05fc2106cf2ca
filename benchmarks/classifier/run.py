"""``python -m benchmarks.classifier.run``: the classifier service against its own embedder.

Starts a private tansu broker and one classifier process (default model and
settings), then feeds the same N requests through (a) the embedder's bare
``encode`` in this process, with the service idle, and (b) the service via the
broker, in rounds that alternate the two; prints texts/s of both, their ratio,
the per-request latency through the service (paced at half its rate, and at full
load) and the service's peak RSS. Writes ``bench-classifier.json``; with
``--docs`` also the "Classifier service benchmark" section of docs/benchmarks.md
(the other sections are left alone).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.classifier.inproc import InProcess, service_settings
from benchmarks.classifier.report import (
    SECTION,
    Phase,
    Round,
    combine,
    env_pairs,
    markdown,
    metric_delta,
    results,
)
from benchmarks.classifier.stack import (
    CpuMeter,
    Feeder,
    Freezer,
    Message,
    Results,
    ServiceStack,
)
from benchmarks.e2e.corpus import requests_for
from benchmarks.e2e.measure import received_event, scrape
from benchmarks.e2e.report import machine, update_docs, write_json
from benchmarks.e2e.run import CLASSIFIER_METRICS
from shared.events import RequestReceived, encode
from shared.pii import mask

log = logging.getLogger("benchmarks.classifier.run")

WARM_UP_BATCHES = 2  # the group join, and the service's first (lazy) calls
MIN_PACED = 50


@dataclass(frozen=True)
class Options:
    requests: int = 2000
    paced_seconds: float = 30.0
    stages_sample: int = 256
    rounds: int = 4
    env: tuple[tuple[str, str], ...] = ()  # extra settings given to the service (A/B runs)


def _events(tag: str, n: int) -> list[RequestReceived]:
    return [received_event(b) for b in requests_for(tag, n)]


def _messages(events: list[RequestReceived]) -> list[Message]:
    return [(e.request_id, encode(e)) for e in events]


def _drain_timeout(n: int) -> float:
    return 60.0 + n / 5  # generous: a service below 5 texts/s is broken anyway


async def _feed(
    feeder: Feeder, reader: Results, messages: list[Message], rate: float | None = None
) -> Phase:
    sent = await feeder.send(messages, rate)
    missing = await reader.wait_for(sent, _drain_timeout(len(messages)))
    if missing:
        log.warning("%d of %d requests got no result in time", missing, len(messages))
    return reader.phase(sent)


async def _with_clients(stack: ServiceStack, options: Options) -> dict[str, Any]:
    settings = service_settings(dict(options.env))
    reader = Results(
        stack.bootstrap,
        stack.topic("classified"),
        stack.topic("deadletter"),
        settings.kafka_fetch_max_wait_ms,
    )
    feeder = Feeder(stack.bootstrap, stack.topic("received"), settings.kafka_linger_ms)
    await reader.start()
    await feeder.start()
    try:
        return await _phases(stack, options, reader, feeder, settings.classifier_batch_size)
    finally:
        await feeder.stop()
        await reader.stop()


async def _phases(
    stack: ServiceStack, options: Options, reader: Results, feeder: Feeder, batch: int
) -> dict[str, Any]:
    tag = f"cb{stack.run_id}"
    warm = await _feed(feeder, reader, _messages(_events(f"{tag}-warm", WARM_UP_BATCHES * batch)))
    if warm.done == 0:
        raise RuntimeError(f"the service classified nothing; see {stack.state_dir}/logs")
    memory = [stack.memory_mb("warm-up")]
    events = _events(f"{tag}-burst", options.requests)
    # In-process work blocks this loop on purpose: nothing of the bench must compete
    # with the service for the cores during its phases, nor the idle service with
    # the in-process measurements (it is frozen during them).
    log.info("loading the model in-process (the service is idle)")
    freezer = Freezer(stack.proc.pid if stack.proc is not None else None)
    inproc = InProcess(dict(options.env), freezer.timed)
    sample = events[: max(options.stages_sample, 1)]
    inproc.warm_up(sample)
    stages = inproc.stages(sample)
    size = -(-len(events) // max(1, options.rounds))
    rounds = []
    for i, start in enumerate(range(0, len(events), size)):
        part = events[start : start + size]
        log.info("round %d: %d texts through encode and through the service", i + 1, len(part))
        rounds.append(await _round(stack, inproc, reader, feeder, part, i))
        memory.append(stack.memory_mb(f"round {i + 1}"))
    embedder = inproc.embedder_info()
    inproc.release()
    combined = combine(rounds)
    rate = max(1.0, round(combined["service"]["texts_per_s"] / 2, 1))
    n = max(MIN_PACED, int(rate * options.paced_seconds))
    log.info("paced: %d requests at %.1f/s", n, rate)
    meter = CpuMeter(stack.pids()).start()
    paced = await _feed(feeder, reader, _messages(_events(f"{tag}-paced", n)), rate)
    memory.append(stack.memory_mb("paced"))
    return {
        "embedder": embedder,
        **combined,
        "paced": paced.summary(),
        "paced_rate_per_s": rate,
        "paced_cores": meter.stop()["cores"],
        "in_process": stages,
        "warm_up": warm.summary(),
        "memory_mb": memory,
    }


async def _round(
    stack: ServiceStack,
    inproc: InProcess,
    reader: Results,
    feeder: Feeder,
    events: list[RequestReceived],
    index: int,
) -> Round:
    """``encode`` of the texts and the service on the same requests, one after the other;
    which goes first alternates, so a drift of the machine's load hits both alike."""
    texts = [mask(e.full_text()) for e in events]
    cpu: dict[str, dict[str, Any]] = {}
    metrics: dict[str, float] = {}
    burst, encode_s = Phase({}, {}), 0.0
    for step in ("encode", "burst") if index % 2 == 0 else ("burst", "encode"):
        meter = CpuMeter(stack.pids()).start()
        if step == "encode":
            encode_s = inproc.encode_seconds(texts)
        else:
            before = scrape(stack.url, CLASSIFIER_METRICS)
            burst = await _feed(feeder, reader, _messages(events))
            metrics = metric_delta(before, scrape(stack.url, CLASSIFIER_METRICS))
        cpu[step] = meter.stop()
    # the service's thaws between frozen slices are not encode time: ours over encode_s
    ours = {k: v / encode_s for k, v in cpu["encode"]["cpu_s"].items()} if encode_s else {}
    cpu["encode"]["cores"] = {**ours, "other": cpu["encode"]["cores"]["other"]}
    return Round(
        encode_s=encode_s,
        encode_cpu_s=cpu["encode"]["cpu_s"]["bench"],
        burst=burst,
        service_cpu_s=cpu["burst"]["cpu_s"]["classifier"],
        metrics=metrics,
        cores={step: c["cores"] for step, c in cpu.items()},
    )


def run(state_dir: Path, options: Options) -> dict[str, Any]:
    """Every phase on a fresh broker and service, both stopped whatever happens."""
    stack = ServiceStack(state_dir, dict(options.env))
    try:
        stack.start()
        raw = asyncio.run(_with_clients(stack, options))
    finally:
        peak = stack.peak_rss_mb()  # also stops the sampling thread
        stack.stop()
    raw["peak_rss_mb"] = peak
    return raw


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.classifier.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    d = Options()
    p.add_argument("--requests", type=int, default=d.requests, help="requests fed (%(default)s)")
    p.add_argument(
        "--rounds", type=int, default=d.rounds, help="encode/service rounds (%(default)s)"
    )
    p.add_argument("--paced-seconds", type=float, default=d.paced_seconds,
                   help="paced phase (%(default)s s)")  # fmt: skip
    p.add_argument("--stages-sample", type=int, default=d.stages_sample,
                   help="texts for in-process stages (%(default)s)")  # fmt: skip
    p.add_argument("--json", type=Path, default=Path("bench-classifier.json"))
    p.add_argument("--docs", type=Path, default=None, help="update this docs/benchmarks.md")
    p.add_argument("--state-dir", type=Path, default=Path(".triage/bench-classifier"))
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra setting for the service (A/B runs), "
                        "e.g. TRIAGE_CLASSIFIER_BATCH_WAIT_MS=20")  # fmt: skip
    return p.parse_args(argv)


def _terminate(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: the finally blocks run


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench-classifier: %(message)s")
    # sentence-transformers draws a progress bar per encode call when its logger is at INFO
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    env = env_pairs(args.env)
    options = Options(
        args.requests, args.paced_seconds, args.stages_sample, args.rounds, tuple(env.items())
    )
    host = machine()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        raw = run(args.state_dir.resolve(), options)
    finally:
        signal.signal(signal.SIGTERM, previous)
    params = {"requests": options.requests, "rounds": options.rounds,
              "batch_size": service_settings(env).classifier_batch_size,
              "paced_seconds": options.paced_seconds, "stages_sample": options.stages_sample,
              "env": env}  # fmt: skip
    data = results(raw, params, host)
    write_json(args.json, data)
    section = markdown(data)
    if args.docs is not None:
        update_docs(args.docs, section, SECTION)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
