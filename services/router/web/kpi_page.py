"""The KPI page (``/ui/kpis``): charts rendered on the server, readable without script.

Leads and managers see the KPIs of their queues over the chosen weeks: handling
and waiting time, SLA compliance, backlog by queue, review and correction rates,
and one queue's demand forecast beside its recent arrivals. Every chart has its
numbers in a table below it (screen readers, copy and paste).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.router.insights import QueueForecast, insights_of
from services.router.kpis import KPI_ROLES, PERIODS, KpiRequest
from services.router.web import charts
from services.router.web.context import PREFIX, Page, PageDep
from shared.errors import ApiError, Forbidden

router = APIRouter(prefix=PREFIX, include_in_schema=False)
HOUR = 3600.0


@router.get("/kpis")
async def kpi_page(
    page: PageDep,
    period: Annotated[str, Query()] = "week",
    queue: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    who = page.user
    if who is None:
        return page.to_login()
    if who.role not in KPI_ROLES:
        return page.problem(Forbidden("KPIs are for team leads and managers"))
    names = [q["queue"] for q in await page.router.views.queues(who)]
    chosen = queue if queue in names else (names[0] if names else None)
    insights = insights_of(page.request.app, page.router)
    today = datetime.now(insights.tz).date()
    ask = KpiRequest.parse(None, None, period if period in PERIODS else "week", "all", None, today)
    try:
        rows = await insights.store.periods(ask, who.visible(), datetime.now(UTC))
        backlog = await page.router.views.queues(who)
        forecast = await insights.forecast(chosen) if chosen else None
    except ApiError as exc:
        return page.problem(exc)
    svgs = await asyncio.to_thread(_charts, page, rows, backlog, forecast)
    return page.render(
        "kpis.html",
        current="kpis",
        ask=ask,
        periods=PERIODS,
        queues=names,
        chosen=chosen,
        rows=rows,
        backlog=backlog,
        forecast=forecast.as_dict() if forecast else None,
        over=[d.isoformat() for d in forecast.over_capacity] if forecast else [],
        charts=svgs,
    )


def _hours(values: list[float | None]) -> list[float | None]:
    return [None if v is None else v / HOUR for v in values]


def _percent(values: list[float | None]) -> list[float | None]:
    return [None if v is None else 100 * v for v in values]


def _charts(
    page: Page, rows: list[dict[str, Any]], backlog: list[dict[str, Any]], fc: QueueForecast | None
) -> dict[str, str]:
    """Every chart of the page (CPU-bound: runs in a worker thread)."""
    t = page.t
    days: list[date] = [r["period"] for r in rows]

    def col(name: str) -> list[Any]:
        return [r[name] for r in rows]

    out = {
        "handling": charts.lines(
            "handling",
            t("kpis.handling.title"),
            days,
            [
                charts.Series(t("kpis.handling.median"), _hours(col("handling_p50_s"))),
                charts.Series(t("kpis.handling.p90"), _hours(col("handling_p90_s")), dashed=True),
                charts.Series(
                    t("kpis.waiting.median"), _hours(col("waiting_p50_s")), charts.ORANGE
                ),
                charts.Series(
                    t("kpis.waiting.p90"), _hours(col("waiting_p90_s")), charts.ORANGE, dashed=True
                ),
            ],
            t("kpis.unit.hours"),
        ),
        "sla": charts.lines(
            "sla",
            t("kpis.sla.title"),
            days,
            [
                charts.Series(
                    t("kpis.sla.compliance"), _percent(col("sla_compliance")), charts.GREEN
                ),
            ],
            t("kpis.unit.percent"),
        ),
        "review": charts.lines(
            "review",
            t("kpis.review.title"),
            days,
            [
                charts.Series(t("kpis.review.share"), _percent(col("review_share"))),
                charts.Series(
                    t("kpis.review.type"), _percent(col("type_correction_rate")), charts.ORANGE
                ),
                charts.Series(
                    t("kpis.review.urgency"),
                    _percent(col("urgency_correction_rate")),
                    charts.ORANGE,
                    dashed=True,
                ),
            ],
            t("kpis.unit.percent"),
        ),
        "backlog": charts.bars(
            "backlog",
            t("kpis.backlog.title"),
            [t.label("team", b["queue"]) for b in backlog],
            [
                charts.Series(t("kpis.backlog.waiting"), [b["waiting"] for b in backlog]),
                charts.Series(
                    t("kpis.backlog.claimed"), [b["claimed"] for b in backlog], charts.GREY
                ),
            ],
            t("kpis.unit.items"),
        ),
    }
    if fc is not None and fc.status == "ok":
        out["forecast"] = charts.forecast(
            "forecast",
            t("kpis.forecast.title"),
            charts.ForecastChart(
                [d for d, _ in fc.actuals],
                [c for _, c in fc.actuals],
                [d.day for d in fc.days],
                [d.expected for d in fc.days],
                [d.lower for d in fc.days],
                [d.upper for d in fc.days],
                fc.capacity,
            ),
            {
                "actual": t("kpis.forecast.actual"),
                "expected": t("kpis.forecast.expected"),
                "interval": t("kpis.forecast.interval"),
                "capacity": t("kpis.forecast.capacity"),
                "unit": t("kpis.unit.requests_per_day"),
            },
        )
    return out
