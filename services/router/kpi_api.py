"""``GET /v1/kpis`` (JSON or CSV) and ``GET /v1/queues/{queue}/forecast``.

Leads and managers only; each sees the queues of their identity and nothing else
(a named queue outside them is a 403, the breakdowns are filtered in SQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from services.router.api import _ERRORS, State, User, UserRoute
from services.router.insights import insights_of, refit_lifespan
from services.router.kpis import (
    Breakdown,
    KpiRequest,
    Period,
    require_kpi_access,
    to_csv,
    wants_csv,
)
from services.router.schemas_kpi import ForecastAnswer, KpiAnswer
from shared.errors import ErrorBody

router = APIRouter(prefix="/v1", route_class=UserRoute, tags=["kpis"], lifespan=refit_lifespan)
_KPI_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    422: {"model": ErrorBody, "description": "invalid dates, period or breakdown"},
}


@router.get(
    "/kpis",
    response_model=KpiAnswer,
    responses={
        **_KPI_ERRORS,
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV when asked"},
    },
)
async def kpis(
    request: Request,
    state: State,
    who: User,
    from_: Annotated[date | None, Query(alias="from", description="first day")] = None,
    to: Annotated[date | None, Query(description="last day (inclusive); default today")] = None,
    queue: Annotated[str | None, Query(max_length=100)] = None,
    by: Annotated[Breakdown, Query(description="breakdown of each period")] = "all",
    period: Period = "week",
    format_: Annotated[str | None, Query(alias="format", pattern="^(json|csv)$")] = None,
) -> Any:
    """Per period and breakdown, the requests received then: counts, handling and
    waiting times (median, p90), SLA compliance, review and correction rates; plus
    the current backlog per queue. ``text/csv`` (Accept or ``format=csv``) gives
    the rows for a spreadsheet."""
    require_kpi_access(who.role, who.queues, queue)
    insights = insights_of(request.app, state)
    today = datetime.now(insights.tz).date()
    ask = KpiRequest.parse(from_, to, period, by, queue, today)
    rows = await insights.store.periods(ask, who.visible(), datetime.now(UTC))
    if wants_csv(request.headers.get("accept"), format_):
        name = f"triage-kpis-{ask.start}-{ask.end}.csv"
        return Response(
            to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    backlog = [b for b in await state.views.queues(who) if queue in (None, b["queue"])]
    return {
        "from": ask.start,
        "to": ask.end,
        "period": ask.period,
        "by": ask.by,
        "time_zone": insights.tz.key,
        "rows": rows,
        "backlog": backlog,
    }


@router.get("/queues/{queue}/forecast", response_model=ForecastAnswer, responses=_ERRORS)
async def forecast(queue: str, request: Request, state: State, who: User) -> Any:
    """Expected requests per day for the coming days, with an 80 % prediction interval,
    the recent actuals, and the days the forecast exceeds the queue's capacity."""
    require_kpi_access(who.role, who.queues, queue)
    await state.workflow.require_queue(who, queue)
    return (await insights_of(request.app, state).forecast(queue)).as_dict()
