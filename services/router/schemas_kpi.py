"""JSON shapes of ``GET /v1/kpis`` and ``GET /v1/queues/{queue}/forecast``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.router.schemas import QueueSummary


class KpiRow(BaseModel):
    period: date = Field(description="first day of the day, ISO week (Monday) or month")
    key: str = Field(description="the breakdown's value (queue, type...), 'all' without one")
    received: int
    completed: int = Field(description="of the requests received in the period, completed")
    on_time: int = Field(description="completed by their due date")
    completed_late: int
    open_past_due: int = Field(description="still open, past their due date")
    via_review: int = Field(description="routed through the review queue")
    type_corrected: int
    urgency_corrected: int
    handling_p50_s: float | None = Field(description="received -> completed, median")
    handling_p90_s: float | None
    waiting_p50_s: float | None = Field(description="received -> first claim, median")
    waiting_p90_s: float | None
    sla_compliance: float | None = Field(
        description="on_time / (on_time + completed_late + open_past_due)"
    )
    review_share: float | None
    type_correction_rate: float | None
    urgency_correction_rate: float | None


class KpiAnswer(BaseModel):
    from_: date = Field(alias="from")
    to: date
    period: Literal["day", "week", "month"]
    by: str
    time_zone: str
    rows: list[KpiRow]
    backlog: list[QueueSummary] = Field(description="open items per queue, now")


class ForecastDay(BaseModel):
    day: date
    expected: float
    lower: float = Field(description="lower end of the 80 % prediction interval")
    upper: float
    over_capacity: bool


class ActualDay(BaseModel):
    day: date
    count: int


class ForecastAnswer(BaseModel):
    queue: str
    status: Literal["ok", "insufficient_history"]
    history_days: int = Field(description="days since the queue's first request")
    min_history_days: int
    fitted_on: date
    capacity_per_day: float | None = Field(description="agents x items per day (a setting)")
    interval: float
    days: list[ForecastDay]
    actuals: list[ActualDay] = Field(description="recent daily arrivals")
