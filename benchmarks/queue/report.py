"""The "Router queue benchmark" section of docs/benchmarks.md, from ``bench-queue.json``."""

from __future__ import annotations

from typing import Any

SECTION = "## Router queue benchmark"


def markdown(r: dict[str, Any], server: str) -> str:
    rows = [
        (
            "router: `claim` + `complete` (SKIP LOCKED, audit events, NOTIFY)",
            r["claims_per_s"],
            _ms(r["p50_claim_ms"]),
            _ms(r["p99_claim_ms"]),
            "",
        ),
        (
            f"procrastinate {r['procrastinate_version']} worker (concurrency {r['agents']})",
            r["procrastinate_per_s"],
            "",
            "",
            f"{r['ratio']:.2f}×",
        ),
        (
            "procrastinate `fetch_job` + `finish_job` without its worker",
            r["procrastinate_fetch_finish_per_s"],
            "",
            _ms(r["procrastinate_p99_fetch_ms"]),
            f"{r['ratio_fetch_finish']:.2f}×",
        ),
    ]
    table = "\n".join(f"| {a} | {b:,.0f} | {c} | {d} | {e} |" for a, b, c, d, e in rows)
    return f"""{SECTION}

`make bench-queue` (`python -m benchmarks.queue.run`, not a timed test):
{r["items"]:,} waiting items (jobs) per workload, {r["agents"]} concurrent agents taking the next
item and completing it, {r["claims"]:,} claims per workload in {r["slices"]} interleaved slices,
all workloads in one process on the same PostgreSQL server ({server}).
Machine: {r["machine"]}, shared with other jobs.

| workload | claims/s | p50 claim | p99 claim | router is |
|---|---:|---:|---:|---:|
{table}

Goal: ≥ 3× procrastinate, measured against its worker — how procrastinate is used (defer, then
`procrastinate worker`): its loop fetches one job at a time and runs each as a task. The last
row drives the same SQL functions from {r["agents"]} loops without the worker: then both systems
spend most of a claim waiting for the commit's WAL flush (two durable commits per item each), so
the gap shrinks to what the client library and the SQL cost; `--fast` (fsync off) shows it
without the flush. Raw numbers: `bench-queue.json` (`claims_per_s`, `procrastinate_per_s` = the
worker, `ratio`, `p99_claim_ms`, and `procrastinate_fetch_finish_per_s`, `ratio_fetch_finish`).
"""


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} ms"
