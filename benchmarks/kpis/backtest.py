"""``make bench-forecast``: rolling-origin backtest of the demand forecast.

On the synthetic demo year (``triage demo-history``'s generator, every queue):
from the 27th week on, every ``--step`` days, fit on the history up to the
origin, forecast ``--horizon`` days, and score against what came: MASE (scaled
by the in-sample error of seasonal-naive) and the share of actual counts inside
the 80 % interval; seasonal-naive (same weekday last week) is scored the same way.
Also times one refit of every queue (what the router does once a day).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks.e2e.report import update_docs
from benchmarks.machine import cpu_name
from services.router.forecast import coverage, forecast_days, mase, seasonal_naive
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES
from triage.demo_history import daily_arrivals

SECTION = "## Demand forecast backtest"


@dataclass
class Scores:
    ours: list[float] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)
    ours_coverage: list[float] = field(default_factory=list)
    naive_coverage: list[float] = field(default_factory=list)
    fit_s: list[float] = field(default_factory=list)


def backtest(
    start: date, days: int, horizon: int, step: int, first_origin: int
) -> dict[str, Scores]:
    calendar = load_rules(DEFAULT_RULES).calendar
    out: dict[str, Scores] = {}
    for queue, counts in daily_arrivals(start, days, calendar.is_working_day).items():
        scores = out.setdefault(queue, Scores())
        for origin in range(first_origin, days - horizon + 1, step):
            history, actual = counts[:origin], counts[origin : origin + horizon]
            began = time.process_time()
            forecast = forecast_days(history, start, horizon, calendar.is_working_day)
            scores.fit_s.append(time.process_time() - began)
            naive = seasonal_naive(history, horizon)
            scores.ours.append(mase(actual, [f.expected for f in forecast], history))
            scores.naive.append(mase(actual, naive, history))
            scores.ours_coverage.append(coverage(actual, forecast))
            # seasonal-naive has no interval: its coverage is the exact-hit rate
            scores.naive_coverage.append(
                statistics.mean(a == n for a, n in zip(actual, naive, strict=True))
            )
    return out


def markdown(results: dict[str, Scores], args: argparse.Namespace) -> str:
    rows = [
        "| queue | MASE forecast | MASE seasonal-naive | 80 % interval coverage | origins |",
        "|---|---:|---:|---:|---:|",
    ]
    for queue, s in results.items():
        rows.append(
            f"| {queue} | {statistics.mean(s.ours):.3f} | {statistics.mean(s.naive):.3f} "
            f"| {statistics.mean(s.ours_coverage):.0%} | {len(s.ours)} |"
        )
    every = [s for s in results.values()]
    ours = statistics.mean(x for s in every for x in s.ours)
    naive = statistics.mean(x for s in every for x in s.naive)
    cover = statistics.mean(x for s in every for x in s.ours_coverage)
    fits = [x for s in every for x in s.fit_s]
    rows.append(f"| **all queues** | **{ours:.3f}** | {naive:.3f} | {cover:.0%} | {len(fits)} |")
    per_refit = statistics.mean(fits) * len(results)
    return "\n".join(
        [
            SECTION,
            "",
            f"`make bench-forecast` (`benchmarks/kpis/backtest.py`), {platform.node()}: "
            f"{cpu_name(platform.machine())}, {os.cpu_count()} cores shared with other "
            "work while it ran (loaded machine).",
            "",
            f"Synthetic demo year (`triage demo-history`'s generator, seed 17, {args.days} days "
            f"from {args.start}), every queue; rolling origin from day {args.first_origin}, "
            f"every {args.step} days, {args.horizon}-day horizon. MASE is the forecast's mean "
            "absolute error over the in-sample mean absolute error of seasonal-naive (lower "
            "is better; seasonal-naive's own MASE is the yardstick the forecast must beat). "
            "Coverage: share of actual daily counts inside the 80 % prediction interval.",
            "",
            *rows,
            "",
            f"One fit: {statistics.mean(fits):.2f} s CPU on average (max {max(fits):.2f} s); "
            f"refitting all {len(results)} queues, as the router does once a day: "
            f"≈ {per_refit:.1f} s CPU (single BLAS thread, `OMP_NUM_THREADS=1`).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 12, 2))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--step", type=int, default=14)
    parser.add_argument("--first-origin", type=int, default=182)
    parser.add_argument("--docs", type=Path, help="update this markdown file's section")
    args = parser.parse_args(argv)
    results = backtest(args.start, args.days, args.horizon, args.step, args.first_origin)
    text = markdown(results, args)
    print(text)
    if args.docs:
        update_docs(args.docs, text, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
