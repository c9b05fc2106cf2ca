"""KPI numbers on the real PostgreSQL against hand-computed ones (issue 17).

The fixed history: five items in the week of Monday 10 November 2025 (Brussels,
UTC+1), one received on Armistice Day (11 November, a public holiday), one
completed after its due date (an SLA breach), one still open past its due date.

    item  queue       received (UTC)  claim  done   due (UTC)     notes
    A     energy_aid  Mon 10 09:00    +1 h   +3 h   10 Nov 16:00  on time
    B     energy_aid  Mon 10 10:00    +2 h   +5 h   10 Nov 12:00  late; urgency corrected
    C     housing     Tue 11 10:00    +4 h   +24 h  14 Nov 16:00  holiday; review; type fixed
    D     housing     Wed 12 08:00    -      -      12 Nov 16:00  open, past due
    E     energy_aid  Wed 12 09:00    +6 h   -      30 Nov 16:00  claimed, not due

Handling: 3 h, 5 h, 24 h -> median 5 h = 18000 s; p90 (linear) = 18000 + 0.8 x 68400 = 72720 s.
Waiting: 1, 2, 4, 6 h -> median 3 h = 10800 s; p90 = 14400 + 0.7 x 7200 = 19440 s.
SLA: on time A, C; breaches B (late) and D (open past due) -> 2 / 4 = 0.5.
Durations are read from the rollup's histograms: within kpi_rollup.RELATIVE_ERROR (4.4 %).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.router.kpi_rollup import RELATIVE_ERROR
from services.router.kpi_store import (
    HistoryRow,
    KpiStore,
    insert_history,
    load_kpi_queries,
    refresh_all,
)
from services.router.kpis import KpiRequest
from services.router.rules import Routing

pytestmark = pytest.mark.integration

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 11, day, hour, 0, tzinfo=UTC)


def item(
    n: int,
    queue: str,
    received: datetime,
    due: datetime,
    claim_h: float | None = None,
    done_h: float | None = None,
    **extra: Any,
) -> HistoryRow:
    values: dict[str, Any] = {
        "request_id": uuid.UUID(int=n),
        "received_at": received,
        "language": "fr",
        "type": queue,
        "model_type": queue,
        "urgency": "normal",
        "model_urgency": "normal",
        "needs_review": False,
        "queue": queue,
        "priority": 3,
        "due_at": due,
        "first_claimed_at": None if claim_h is None else received + claim_h * H,
        "completed_at": None if done_h is None else received + done_h * H,
        **extra,
    }
    return HistoryRow(**values)


HISTORY = [
    item(1, "energy_aid", at(10, 9), at(10, 16), 1, 3),
    item(2, "energy_aid", at(10, 10), at(10, 12), 2, 5, urgency="critical"),
    item(3, "housing", at(11, 10), at(14, 16), 4, 24, needs_review=True, model_type="energy_aid"),
    item(4, "housing", at(12, 8), at(12, 16)),
    item(5, "energy_aid", at(12, 9), at(30, 16), 6),
]


@pytest.fixture
async def store(pool: asyncpg.Pool, routing: Routing) -> KpiStore:
    queries = load_kpi_queries()
    async with pool.acquire() as conn:
        await insert_history(conn, queries, HISTORY, "test", "m1")
        await insert_history(conn, queries, HISTORY, "test", "m1")  # idempotent
        await refresh_all(conn, queries, routing.tz)
    return KpiStore(pool, queries, routing.tz)


def approx(seconds: float) -> Any:
    return pytest.approx(seconds, rel=RELATIVE_ERROR)


def ask(**kw: Any) -> KpiRequest:
    return KpiRequest(date(2025, 11, 10), date(2025, 11, 16), **kw)


async def test_week_numbers_match_the_hand_computed_ones(store: KpiStore) -> None:
    [row] = await store.periods(ask(period="week"), None, NOW)
    assert row["period"] == date(2025, 11, 10) and row["key"] == "all"
    assert (row["received"], row["completed"]) == (5, 3)
    assert row["handling_p50_s"] == approx(18000) and row["handling_p90_s"] == approx(72720)
    assert row["waiting_p50_s"] == approx(10800) and row["waiting_p90_s"] == approx(19440)
    assert (row["on_time"], row["completed_late"], row["open_past_due"]) == (2, 1, 1)
    assert row["sla_compliance"] == 0.5
    assert row["review_share"] == pytest.approx(0.2)
    assert row["type_correction_rate"] == row["urgency_correction_rate"] == pytest.approx(0.2)


async def test_days_include_the_holiday_and_queues_split(store: KpiStore) -> None:
    days = await store.periods(ask(period="day"), None, NOW)
    assert [(r["period"].day, r["received"]) for r in days] == [(10, 2), (11, 1), (12, 2)]
    holiday = days[1]
    assert holiday["handling_p50_s"] == approx(86400) and holiday["sla_compliance"] == 1.0
    queues = await store.periods(ask(by="queue"), None, NOW)
    assert {r["key"]: r["received"] for r in queues} == {"energy_aid": 3, "housing": 2}
    energy = next(r for r in queues if r["key"] == "energy_aid")
    assert energy["sla_compliance"] == 0.5  # A on time, B late; E not due yet


async def test_visible_queues_and_queue_filter_restrict_the_rows(store: KpiStore) -> None:
    [row] = await store.periods(ask(), ["housing"], NOW)
    assert row["received"] == 2 and row["open_past_due"] == 1
    [row] = await store.periods(ask(queue="energy_aid"), None, NOW)
    assert row["received"] == 3
    assert await store.periods(ask(queue="energy_aid"), ["housing"], NOW) == []


async def test_daily_arrivals_count_local_days(store: KpiStore) -> None:
    counts = await store.arrivals(date(2025, 11, 10), date(2025, 11, 16), None, None)
    assert counts == {
        "energy_aid": {date(2025, 11, 10): 2, date(2025, 11, 12): 1},
        "housing": {date(2025, 11, 11): 1, date(2025, 11, 12): 1},
    }
