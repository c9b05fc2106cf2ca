"""The rollup's pure parts: buckets, percentiles read from histograms, row assembly."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.router.kpi_rollup import (
    RELATIVE_ERROR,
    assemble,
    bucket_of,
    bucket_value,
    day_bounds,
    quantile,
    quantiles,
)

pytestmark = pytest.mark.unit


def histogram(values: list[float]) -> tuple[list[int], list[int]]:
    counts = Counter(bucket_of(v) for v in values)
    buckets = sorted(counts)
    return buckets, [counts[b] for b in buckets]


def exact(values: list[float], q: float) -> float:
    """percentile_cont: linear between the order statistics around q * (n - 1)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_buckets_are_eighths_of_an_octave_from_one_second() -> None:
    assert [bucket_of(s) for s in (-5, 0, 0.99)] == [0, 0, 0]
    assert bucket_of(1) == 1 and bucket_of(1.08) == 1  # [1, 2^(1/8) = 1.0905)
    assert bucket_of(1.1) == 2
    assert bucket_of(2) == 9 and bucket_of(3600) == 1 + int(8 * 11.81)
    for seconds in (1.5, 59, 3600, 86400 * 3.3, 86400 * 400):
        k = bucket_of(seconds)
        assert 2 ** ((k - 1) / 8) <= seconds < 2 ** (k / 8)
        assert abs(bucket_value(k) / seconds - 1) <= RELATIVE_ERROR


def test_the_error_bound_is_four_point_four_percent() -> None:
    assert abs(RELATIVE_ERROR - 0.0443) < 1e-4


def test_percentiles_from_the_histogram_stay_within_the_bound() -> None:
    rng = random.Random(17)
    for size in (1, 2, 3, 10, 257, 5000):
        values = [rng.lognormvariate(10, 1.5) + 1 for _ in range(size)]
        buckets, counts = histogram(values)
        for q in (0.5, 0.9):
            estimate = quantile(buckets, counts, q)
            assert estimate is not None
            assert abs(estimate / exact(values, q) - 1) <= RELATIVE_ERROR + 1e-12


def test_percentiles_interpolate_like_percentile_cont() -> None:
    # two values far apart: the median is halfway between their buckets' values
    buckets, counts = histogram([10.0, 1000.0])
    assert quantile(buckets, counts, 0.5) == pytest.approx(
        (bucket_value(bucket_of(10)) + bucket_value(bucket_of(1000))) / 2
    )
    assert quantile(buckets, counts, 0.5) == pytest.approx(505, rel=RELATIVE_ERROR)
    same = [3600.0] * 9
    assert quantile(*histogram(same), 0.9) == pytest.approx(3600, rel=RELATIVE_ERROR)


def test_under_a_second_is_half_a_second() -> None:
    assert quantile(*histogram([0.0, 0.2, 0.9]), 0.5) == 0.5


def test_empty_histograms_have_no_percentiles() -> None:
    assert quantile([], [], 0.5) is None
    assert quantiles(None, None) is None and quantiles([], []) is None
    assert quantiles([1, 9], [1, 1]) == [
        pytest.approx(statistics.mean([bucket_value(1), bucket_value(9)])),
        pytest.approx(bucket_value(1) + 0.9 * (bucket_value(9) - bucket_value(1))),
    ]


def test_day_bounds_follow_the_dst_change() -> None:
    starts, ends = day_bounds([date(2025, 10, 26)], ZoneInfo("Europe/Brussels"))
    assert starts[0].astimezone(UTC) == datetime(2025, 10, 25, 22, tzinfo=UTC)
    assert (ends[0] - starts[0]).total_seconds() == 25 * 3600  # the longer day


def rollup_row(period: date, key: str, received: int, handling: list[float]) -> dict[str, Any]:
    buckets, counts = histogram(handling)
    return {
        "period": period,
        "key": key,
        "received": received,
        "completed": len(handling),
        "on_time": len(handling),
        "completed_late": 0,
        "via_review": 0,
        "type_corrected": 1,
        "urgency_corrected": 0,
        "handling_b": buckets,
        "handling_n": counts,
        "waiting_b": [],
        "waiting_n": [],
    }


def test_assembly_sums_the_rows_of_a_period_and_merges_their_histograms() -> None:
    week, durations = date(2025, 11, 10), [60.0, 3600.0, 7200.0, 86400.0, 90000.0]
    rows = assemble(  # a whole week's row and two day rows of the next, cut week
        [
            rollup_row(week + timedelta(days=7), "housing", 2, durations[:2]),
            rollup_row(week, "housing", 4, durations),
            rollup_row(week + timedelta(days=7), "housing", 3, durations[2:]),
        ],
        {},
    )
    assert [(r["period"], r["received"], r["completed"]) for r in rows] == [
        (week, 4, 5),
        (week + timedelta(days=7), 5, 5),
    ]
    assert rows[0]["handling_s"] == rows[1]["handling_s"]  # same durations, merged
    assert rows[1]["handling_s"][0] == pytest.approx(7200, rel=RELATIVE_ERROR)
    assert rows[1]["type_corrected"] == 2 and rows[1]["waiting_s"] is None


def test_assembly_adds_the_live_count_and_keeps_a_live_only_breach() -> None:
    week = date(2025, 11, 10)
    rows = assemble(
        [rollup_row(week, "housing", 2, [100.0])], {(week, "housing"): 1, (week, "tax"): 2}
    )
    assert [(r["key"], r["received"], r["open_past_due"]) for r in rows] == [
        ("housing", 2, 1),
        ("tax", 0, 2),
    ]
    assert rows[0]["handling_s"] == [bucket_value(bucket_of(100))] * 2
