"""``python -m benchmarks.e2e``: start the local stack, load it, report, stop it.

Writes ``bench-results.json`` and the "End-to-end benchmark" section of
``docs/benchmarks.md`` (the other sections are left as they are).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

from benchmarks.e2e.report import machine, markdown, results, update_docs, write_json
from benchmarks.e2e.run import Options, run_all, start_stack

log = logging.getLogger("benchmarks.e2e")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.e2e", description=__doc__)
    p.add_argument("--requests", type=int, default=5000, help="requests per phase (5000)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    p.add_argument("--latency-seconds", type=float, default=60.0, help="latency phase (60 s)")
    p.add_argument(
        "--latency-rate", type=float, default=None, help="arrival rate (default: half of e2e)"
    )
    p.add_argument("--ceiling-texts", type=int, default=None, help="default: all requests")
    p.add_argument("--batch-size", type=int, default=64, help="classifier batch size (64)")
    p.add_argument("--state-dir", type=Path, default=Path(".triage/bench"))
    p.add_argument("--json", type=Path, default=Path("bench-results.json"))
    p.add_argument("--docs", type=Path, default=Path("docs/benchmarks.md"))
    p.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra setting for the stack's services (A/B runs), e.g. TRIAGE_ROUTER_BATCH_MAX=500",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    extra = dict(item.split("=", 1) for item in args.env)
    options = Options(
        requests=args.requests,
        concurrency=args.concurrency,
        latency_seconds=args.latency_seconds,
        latency_rate=args.latency_rate,
        ceiling_texts=args.ceiling_texts,
        batch_size=args.batch_size,
        run_id=f"{os.getpid()}",
        env=tuple(sorted(extra.items())),
    )
    host = machine()
    os.environ.setdefault("TRIAGE_CLASSIFIER_BATCH_SIZE", str(args.batch_size))
    shutil.rmtree(args.state_dir, ignore_errors=True)
    stack = start_stack(args.state_dir.resolve(), extra)
    try:
        log.info("stack up; logs in %s", args.state_dir / "logs")
        raw = run_all(stack, options)
    finally:
        stack.stop(remove_data=True)
    data = results(raw, options, host)
    write_json(args.json, data)
    section = markdown(data)
    if not args.no_docs:
        update_docs(args.docs, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
