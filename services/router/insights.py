"""KPIs and forecasts for the API and the page: the store, a daily forecast cache,
the forecast gauges, the task that refits every queue once a day and the task that
keeps the KPI rollup current."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from prometheus_client import Gauge

from services.router.forecast import (
    FIT_DAYS,
    LEVEL,
    MIN_HISTORY_DAYS,
    DayForecast,
    dense,
    forecast_days,
    over_capacity,
)
from services.router.kpi_store import KpiQueries, KpiStore, load_kpi_queries
from services.router.metrics import stop_task
from services.router.sla import WorkCalendar
from services.router.state import RouterState

log = logging.getLogger(__name__)
ACTUAL_DAYS = 28  # the recent actuals drawn beside the forecast


@dataclass(frozen=True)
class QueueForecast:
    queue: str
    status: str  # "ok" or "insufficient_history"
    history_days: int
    fitted_on: date
    capacity: float | None
    days: list[DayForecast] = field(default_factory=list)
    actuals: list[tuple[date, int]] = field(default_factory=list)

    @property
    def over_capacity(self) -> list[date]:
        return over_capacity(self.days, self.capacity)

    def as_dict(self) -> dict[str, Any]:
        over = set(self.over_capacity)
        return {
            "queue": self.queue,
            "status": self.status,
            "history_days": self.history_days,
            "min_history_days": MIN_HISTORY_DAYS,
            "fitted_on": self.fitted_on,
            "capacity_per_day": self.capacity,
            "interval": LEVEL,
            "days": [
                {
                    "day": d.day,
                    "expected": round(d.expected, 2),
                    "lower": round(d.lower, 2),
                    "upper": round(d.upper, 2),
                    "over_capacity": d.day in over,
                }
                for d in self.days
            ],
            "actuals": [{"day": d, "count": c} for d, c in self.actuals],
        }


def build_forecast(
    queue: str,
    counts: dict[date, int],
    today: date,
    horizon: int,
    calendar: WorkCalendar,
    capacity: float | None,
) -> QueueForecast:
    """The forecast of one queue from its daily counts up to yesterday (pure, CPU-bound)."""
    last = today - timedelta(days=1)
    first = min((d for d, c in counts.items() if c), default=today)
    history_days = (last - first).days + 1 if first <= last else 0
    actual_from = last - timedelta(days=ACTUAL_DAYS - 1)
    actuals = [
        (actual_from + timedelta(days=i), counts.get(actual_from + timedelta(days=i), 0))
        for i in range(ACTUAL_DAYS)
    ]
    if history_days < MIN_HISTORY_DAYS:
        return QueueForecast(
            queue, "insufficient_history", history_days, today, capacity, actuals=actuals
        )
    history = dense(counts, first, last)
    days = forecast_days(history, first, horizon, calendar.is_working_day)
    return QueueForecast(queue, "ok", history_days, today, capacity, days, actuals)


class Insights:
    def __init__(self, state: RouterState, queries: KpiQueries | None = None) -> None:
        self.state = state
        self.queries = queries or load_kpi_queries()
        self.tz = state.routing.tz
        self._cache: dict[str, QueueForecast] = {}
        self._basis: dict[str, tuple[date, tuple[tuple[date, int], ...]]] = {}
        self._lock = asyncio.Lock()
        registry = state.registry
        self.expected_peak = Gauge(
            "triage_router_forecast_peak_items",
            "Highest expected daily arrivals over the forecast horizon",
            ["queue"],
            registry=registry,
        )
        self.capacity_gauge = Gauge(
            "triage_router_queue_capacity_items",
            "Items the queue's agents can handle per day (setting)",
            ["queue"],
            registry=registry,
        )
        self.over_days = Gauge(
            "triage_router_forecast_over_capacity_days",
            "Days of the forecast horizon whose expected arrivals exceed the capacity",
            ["queue"],
            registry=registry,
        )

    @property
    def store(self) -> KpiStore:
        return KpiStore(self.state.pool, self.queries, self.tz)

    def today(self) -> date:
        return datetime.now(self.tz).date()

    def capacity(self, queue: str) -> float | None:
        spec = self.state.settings.router_queue_capacity.get(queue)
        return spec.per_day if spec else None

    async def forecast(self, queue: str) -> QueueForecast:
        """Today's forecast of ``queue``. The daily counts are read every time (one
        range of half a year of the rollup, far cheaper than a fit); the model
        is refitted only when they differ from those of the cached fit: once a day,
        or after history was loaded (``triage demo-history``)."""
        return (await self._fit([queue], self.today()))[queue]

    async def refresh_all(self) -> None:
        await self._fit(self.state.routing.queues, self.today())

    async def _fit(self, queues: list[str], today: date) -> dict[str, QueueForecast]:
        first = today - timedelta(days=FIT_DAYS)
        counts = await self.store.arrivals(first, today - timedelta(days=1), None, queues)
        horizon = self.state.settings.router_forecast_days
        calendar = self.state.routing.calendar
        basis = {q: (today, tuple(sorted(counts.get(q, {}).items()))) for q in queues}
        async with self._lock:  # one fit at a time: the CPU is the services' too
            stale = [q for q in queues if self._basis.get(q) != basis[q]]

            def fit_stale() -> dict[str, QueueForecast]:
                return {
                    q: build_forecast(
                        q, counts.get(q, {}), today, horizon, calendar, self.capacity(q)
                    )
                    for q in stale
                }

            for queue, result in (await asyncio.to_thread(fit_stale)).items():
                self._cache[queue], self._basis[queue] = result, basis[queue]
                self._publish(result)
        return {q: self._cache[q] for q in queues}

    def _publish(self, result: QueueForecast) -> None:
        peak = max((d.expected for d in result.days), default=0.0)
        self.expected_peak.labels(result.queue).set(peak)
        if result.capacity is not None:
            self.capacity_gauge.labels(result.queue).set(result.capacity)
        self.over_days.labels(result.queue).set(len(result.over_capacity))

    async def refit_daily(self) -> None:
        """Background task: refit every queue now, then shortly after each local midnight."""
        while True:
            try:
                await self.store.refresh()  # fit on the rollup's current counts
                await self.refresh_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; tomorrow's refit retries
                log.warning("forecasts not refitted: %s", type(exc).__name__)
            now = datetime.now(self.tz)
            tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0, 5), now.tzinfo)
            await asyncio.sleep(max((tomorrow - now).total_seconds(), 60.0))

    async def refresh_rollup_forever(self) -> None:
        """Background task: recompute the rollup's changed days every few seconds
        (``router_kpi_refresh_s``): the KPIs lag the items by at most that much."""
        period = self.state.settings.router_kpi_refresh_s
        while True:
            try:
                days = await self.store.refresh()
                if days:
                    log.info("KPI rollup: %d day(s) recomputed", days)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; the next round retries
                log.warning("KPI rollup not refreshed: %s", type(exc).__name__)
            await asyncio.sleep(period)


def insights_of(app: FastAPI, state: RouterState) -> Insights:
    insights: Insights = app.state.insights
    return insights


@asynccontextmanager
async def refit_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The router's lifespan runs this after the pool exists: start the daily refit
    and the rollup refresh."""
    insights: Insights = app.state.insights
    tasks = [
        asyncio.create_task(insights.refresh_rollup_forever()),
        asyncio.create_task(insights.refit_daily()),
    ]
    try:
        yield
    finally:
        for task in tasks:
            await stop_task(task)
