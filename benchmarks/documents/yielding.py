"""Does OCR slow plain-text classification down? In-process, taking turns.

``python -m benchmarks.documents.yielding``: the service's own pipeline
(``load_classifier``, default settings) classifies plain-text requests while the
service's extraction pool (one worker, as in the service) OCRs a scanned letter
after another at a given nice level, or while no scan runs at all. Each condition
gets, in turn and for several rounds (so that all see the same outside load; a
scan under way at the end of a turn finishes before the next one starts):

* paced: one request at a time at a fixed arrival rate, latency from its arrival
  time to its result (waiting behind the previous one included), as ``make bench``
  measures accepted -> queued without the broker hops;
* burst: batches of the consumer's size back to back, texts/s, the throughput
  ``make bench-classifier`` compares with the bare embedder.

The pages the OCR worker finished meanwhile are counted: a nice level that starves
the scans completely would be no answer either. Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.e2e.corpus import requests_for
from benchmarks.e2e.measure import percentiles, received_event
from benchmarks.e2e.report import update_docs
from services.classifier.extraction.pool import ExtractionPool
from services.classifier.extraction.readers import PDF, Extracted, Limits
from services.classifier.pipeline import Classifier
from shared.events import RequestReceived
from testing import documents as d

NO_OCR = "no OCR"


@dataclass
class Tally:
    latency_ms: list[float] = field(default_factory=list)
    burst_texts: int = 0
    burst_s: float = 0.0
    ocr_pages: int = 0
    seconds: float = 0.0


async def _ocr_until(pool: ExtractionPool, stop: asyncio.Event, tally: Tally) -> None:
    scan = d.scanned_pdf(d.FR_LETTER + d.NL_LETTER)
    while not stop.is_set():
        result = await pool.extract(PDF, scan, Limits())
        assert isinstance(result, Extracted), result
        if not stop.is_set():  # pages finished after the turn are not its own
            tally.ocr_pages += result.ocr_pages


async def _paced(classifier: Classifier, events: list[RequestReceived], rate: float) -> list[float]:
    out = []
    start = time.perf_counter()
    for i, event in enumerate(events):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await asyncio.to_thread(classifier.classify, [event])
        out.append((time.perf_counter() - due) * 1000)
    return out


async def _burst(classifier: Classifier, events: list[RequestReceived], size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(events), size):
        await asyncio.to_thread(classifier.classify, events[i : i + size])
    return time.perf_counter() - start


async def _slice(
    classifier: Classifier, pool: ExtractionPool | None, events: list[RequestReceived],
    args: argparse.Namespace, tally: Tally,
) -> None:  # fmt: skip
    stop = asyncio.Event()
    ocr = asyncio.create_task(_ocr_until(pool, stop, tally)) if pool is not None else None
    started = time.perf_counter()
    try:
        paced, burst = events[: args.paced], events[args.paced :]
        tally.latency_ms += await _paced(classifier, paced, args.rate)
        tally.burst_s += await _burst(classifier, burst, args.batch)
        tally.burst_texts += len(burst)
    finally:
        tally.seconds += time.perf_counter() - started
        stop.set()
        if ocr is not None:  # the scan under way ends before the next turn starts
            await ocr


def _pools(levels: list[int]) -> dict[str, ExtractionPool | None]:
    pools: dict[str, ExtractionPool | None] = {NO_OCR: None}
    for level in levels:
        pools[f"nice {level}"] = ExtractionPool(1, 512 * 1024 * 1024, 280, niceness=level)
    return pools


async def measure(classifier: Classifier, args: argparse.Namespace) -> dict[str, Any]:
    pools = _pools(args.nice)
    per_slice = args.paced + args.burst
    bodies = requests_for("yield", per_slice * len(pools) * args.rounds)
    events = [received_event(b) for b in bodies]
    for pool in pools.values():  # workers started and Tesseract loaded before timing
        if pool is not None:
            await pool.extract("image/png", d.scan_image(d.FR_LETTER), Limits())
    classifier.classify(events[: args.batch])  # onnxruntime's arena
    tallies = {name: Tally() for name in pools}
    try:
        for r in range(args.rounds):
            names = list(pools)
            turns = names[r % len(names) :] + names[: r % len(names)]  # each goes first once
            for k, name in enumerate(turns):
                pool = pools[name]
                chunk = (r * len(pools) + k) * per_slice
                await _slice(classifier, pool, events[chunk : chunk + per_slice], args,
                             tallies[name])  # fmt: skip
    finally:
        for pool in pools.values():
            if pool is not None:
                pool.close()
    return {name: _result(t) for name, t in tallies.items()}


def _result(t: Tally) -> dict[str, Any]:
    return {
        "paced_latency_ms": percentiles(t.latency_ms),
        "burst_texts_per_s": round(t.burst_texts / t.burst_s, 2),
        "ocr_pages_per_min": round(t.ocr_pages * 60 / t.seconds, 2),
    }


SECTION = "## Documents benchmark: OCR next to plain text"


def _row(name: str, c: dict[str, Any], alone: dict[str, Any]) -> str:
    lat = c["paced_latency_ms"]
    ratio = c["burst_texts_per_s"] / alone["burst_texts_per_s"]
    return (
        f"| {name} | {lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} ms"
        f" | {c['burst_texts_per_s']:.1f} ({ratio:.2f}) | {c['ocr_pages_per_min']:.1f} |"
    )


def markdown(data: dict[str, Any]) -> str:
    a, conditions = data["args"], data["conditions"]
    alone = conditions[NO_OCR]
    rows = [_row(name, c, alone) for name, c in conditions.items()]
    start, end = data["load_average_1m"]
    return "\n".join([
        SECTION, "",
        "`python -m benchmarks.documents.yielding --docs docs/benchmarks.md` (not a timed test):"
        " the service's pipeline in one process (default settings and model) classifies"
        " plain-text requests while the service's extraction pool (1 worker) OCRs one 2-page"
        " scanned letter after another at each nice level, or while no scan runs; the"
        f" conditions take turns ({a['rounds']} rounds). Paced: {a['paced']} requests per turn,"
        f" one at a time at {a['rate']:g}/s, latency from the arrival time to the result."
        f" Burst: {a['burst']} requests per turn in batches of {a['batch']}, back to back."
        f" 1-minute load average {start} at the start, {end} at the end (the 2 cores were"
        " shared with other work, which every number includes).", "",
        "| OCR worker | paced latency p50 / p95 / p99 | burst texts/s (vs no OCR) |"
        " OCR pages/min |",
        "|---|---:|---:|---:|",
        *rows, "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.documents.yielding", description=__doc__)
    p.add_argument("--nice", type=int, nargs="+", default=[0, 10, 19], help="OCR nice levels")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rate", type=float, default=5.0, help="paced requests/s")
    p.add_argument("--paced", type=int, default=50, help="paced requests per slice")
    p.add_argument("--burst", type=int, default=128, help="burst requests per slice")
    p.add_argument("--batch", type=int, default=64, help="burst batch (the consumer's)")
    p.add_argument("--out", default="bench-yielding.json")
    p.add_argument("--docs", type=Path, default=None, help="update this file's section")
    p.add_argument("--report-only", action="store_true", help="rewrite --docs from --out")
    args = p.parse_args(argv)
    data = json.loads(Path(args.out).read_text()) if args.report_only else _measured(args)
    if args.docs:
        update_docs(args.docs, markdown(data), SECTION)
    return 0


def _measured(args: argparse.Namespace) -> dict[str, Any]:
    from services.classifier.app import load_classifier
    from services.classifier.settings import ClassifierSettings

    classifier = load_classifier(ClassifierSettings())
    load = os.getloadavg()[0]
    results = asyncio.run(measure(classifier, args))
    settings = {k: v for k, v in vars(args).items() if k not in ("docs", "report_only")}
    data = {"args": settings, "load_average_1m": [round(load, 2),
            round(os.getloadavg()[0], 2)], "conditions": results}  # fmt: skip
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1))
    return data


if __name__ == "__main__":
    raise SystemExit(main())
