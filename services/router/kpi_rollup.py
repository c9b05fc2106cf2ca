"""The daily KPI rollup's arithmetic (pure): duration buckets, percentiles read from
merged histograms, and the KPI rows assembled from rollup sums and the live part.

Durations are counted in log-spaced buckets, ``BUCKETS_PER_OCTAVE`` per doubling:
bucket 0 holds [0, 1 s) (and negative durations: clock skew between services),
bucket k >= 1 holds [2^((k-1)/8), 2^(k/8)) seconds. The SQL function
``kpi_bucket`` (migration 0010) computes the same index; the integration test
compares rollup answers with exact SQL percentiles.

Error bound of a percentile read from the histogram: the estimate interpolates,
like ``percentile_cont``, between the two order statistics around the rank, each
taken as its bucket's geometric midpoint. A value in bucket k >= 1 is within a
factor 2^(1/16) of that midpoint, so the estimate is within **4.4 %** of the exact
``percentile_cont`` (interpolation keeps the ratio); a value under one second is
taken as 0.5 s (at most 0.5 s off).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BUCKETS_PER_OCTAVE = 8
RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_OCTAVE)) - 1  # 0.0443
QUANTILES = (0.5, 0.9)
COUNT_COLUMNS = (
    "received",
    "completed",
    "on_time",
    "completed_late",
    "via_review",
    "type_corrected",
    "urgency_corrected",
)


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (the Python twin of SQL ``kpi_bucket``)."""
    if seconds < 1:
        return 0
    return 1 + math.floor(BUCKETS_PER_OCTAVE * math.log2(seconds))


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for: its geometric midpoint (0.5 s for bucket 0)."""
    if bucket <= 0:
        return 0.5
    return float(2 ** ((bucket - 0.5) / BUCKETS_PER_OCTAVE))


def _value_at_rank(buckets: Sequence[int], counts: Sequence[int], rank: int) -> float:
    """The value of the ``rank``-th smallest duration (0-based), as its bucket's value."""
    seen = 0
    for bucket, count in zip(buckets, counts, strict=True):
        seen += count
        if rank < seen:
            return bucket_value(bucket)
    raise ValueError(f"rank {rank} beyond {seen} values")


def quantile(buckets: Sequence[int], counts: Sequence[int], q: float) -> float | None:
    """``percentile_cont(q)`` read from a histogram (ascending buckets): None when empty."""
    total = sum(counts)
    if total == 0:
        return None
    position = q * (total - 1)
    low = math.floor(position)
    value = _value_at_rank(buckets, counts, low)
    fraction = position - low
    if fraction:
        value += fraction * (_value_at_rank(buckets, counts, low + 1) - value)
    return value


def quantiles(buckets: Sequence[int] | None, counts: Sequence[int] | None) -> list[float] | None:
    """The median and p90 of a histogram, in the shape ``kpi_row`` reads (None if empty)."""
    if not buckets or not counts:
        return None
    values = [quantile(buckets, counts, q) for q in QUANTILES]
    return [v for v in values if v is not None] or None


def day_bounds(days: Iterable[date], tz: ZoneInfo) -> tuple[list[datetime], list[datetime]]:
    """Each local day's [start, end) as UTC instants, whatever the DST change that day."""
    starts, ends = [], []
    for day in days:
        starts.append(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC))
        ends.append(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC))
    return starts, ends


def assemble(
    rollup: Iterable[Mapping[str, Any]], open_past_due: Mapping[tuple[date, str], int]
) -> list[dict[str, Any]]:
    """KPI rows (the columns ``kpis.kpi_row`` reads) from the rollup's sums per period
    and key, with the live count of open items past due. A key only the live part has
    (items received after the last refresh) still gets its row: a breach is never hidden."""
    rows: dict[tuple[date, str], dict[str, Any]] = {}
    for r in rollup:
        rows[(r["period"], r["key"])] = {
            "period": r["period"],
            "key": r["key"],
            **{c: int(r[c]) for c in COUNT_COLUMNS},
            "handling_s": quantiles(r["handling_b"], r["handling_n"]),
            "waiting_s": quantiles(r["waiting_b"], r["waiting_n"]),
            "open_past_due": 0,
        }
    for (period, key), count in open_past_due.items():
        row = rows.setdefault((period, key), _empty(period, key))
        row["open_past_due"] = count
    return [rows[k] for k in sorted(rows)]


def _empty(period: date, key: str) -> dict[str, Any]:
    return {
        "period": period,
        "key": key,
        **dict.fromkeys(COUNT_COLUMNS, 0),
        "handling_s": None,
        "waiting_s": None,
    }
