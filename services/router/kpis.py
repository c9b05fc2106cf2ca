"""Processing-time KPIs: what a KPI request means, and the rows it answers (pure).

The numbers come from ``sql/kpis.sql`` (``kpi_periods``): per period and breakdown
key, the cohort of requests *received* in the period — how many are completed, the
median and p90 of handling time (received -> completed) and waiting time
(received -> first claim), and how their due dates went. This module turns those
counts into rates and into CSV; it does no I/O, so every formula is unit-tested.

SLA compliance = completed by the due date / (completed + still open past due):
an item still open before its due date has not decided its SLA yet and is left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.errors import Forbidden, Invalid

Period = Literal["day", "week", "month"]
Breakdown = Literal["all", "queue", "type", "language", "urgency", "model_version"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
BREAKDOWNS: tuple[Breakdown, ...] = ("all", "queue", "type", "language", "urgency", "model_version")
# Roles allowed to read KPIs: they describe a team's work, not one agent's items.
KPI_ROLES = frozenset({"lead", "manager"})
DEFAULT_DAYS = 84  # twelve weeks: a quarter at a glance
MAX_DAYS = 731  # two years; a longer range is a report, not a page

COUNTS = (
    "received",
    "completed",
    "on_time",
    "completed_late",
    "open_past_due",
    "via_review",
    "type_corrected",
    "urgency_corrected",
)
DURATIONS = ("handling_p50_s", "handling_p90_s", "waiting_p50_s", "waiting_p90_s")
RATES = ("sla_compliance", "review_share", "type_correction_rate", "urgency_correction_rate")
COLUMNS = ("period", "key", *COUNTS, *DURATIONS, *RATES)


@dataclass(frozen=True)
class KpiRequest:
    start: date  # first day, inclusive (local calendar day)
    end: date  # last day, inclusive
    period: Period = "week"
    by: Breakdown = "all"
    queue: str | None = None

    @classmethod
    def parse(
        cls,
        start: date | None,
        end: date | None,
        period: Period,
        by: Breakdown,
        queue: str | None,
        today: date,
    ) -> KpiRequest:
        """Defaults (the last twelve weeks) and checks; Invalid (422) names the field."""
        end = end or today
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise Invalid("from is after to", details=[_detail("from", "after to")])
        if (end - start).days + 1 > MAX_DAYS:
            raise Invalid(
                f"at most {MAX_DAYS} days per request",
                details=[_detail("from", f"more than {MAX_DAYS} days before to")],
            )
        return cls(start, end, period, by, queue)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end + 1 day) as aware UTC instants: local days, whatever the DST."""
        first = datetime.combine(self.start, time(0), tzinfo=tz)
        after = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz)
        return first.astimezone(UTC), after.astimezone(UTC)


def _detail(field: str, problem: str) -> dict[str, str]:
    return {"field": field, "problem": problem}


def require_kpi_access(role: str, visible: frozenset[str] | None, queue: str | None) -> None:
    """Leads and managers only; and a named queue must be one of theirs (403 otherwise)."""
    if role not in KPI_ROLES:
        raise Forbidden("KPIs are for team leads and managers")
    if queue is not None and visible is not None and queue not in visible:
        raise Forbidden(f"you may not access queue {queue!r}")


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def kpi_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One ``kpi_periods`` row with its rates (None when there is nothing to divide)."""
    out: dict[str, Any] = {"period": row["period"], "key": row["key"]}
    out.update({name: int(row[name]) for name in COUNTS})
    for kind in ("handling", "waiting"):
        p50, p90 = row[f"{kind}_s"] or (None, None)
        out[f"{kind}_p50_s"], out[f"{kind}_p90_s"] = _seconds(p50), _seconds(p90)
    decided = out["on_time"] + out["completed_late"] + out["open_past_due"]
    out["sla_compliance"] = ratio(out["on_time"], decided)
    out["review_share"] = ratio(out["via_review"], out["received"])
    out["type_correction_rate"] = ratio(out["type_corrected"], out["received"])
    out["urgency_correction_rate"] = ratio(out["urgency_corrected"], out["received"])
    return out


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The KPI rows for a spreadsheet: one header line, ISO dates, empty for no value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_cell(row[c]) for c in COLUMNS)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def wants_csv(accept: str | None, format_: str | None) -> bool:
    """``?format=csv`` or an Accept header that prefers text/csv to JSON."""
    if format_ is not None:
        return format_ == "csv"
    if not accept:
        return False
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "text/csv" in types and (
        "application/json" not in types or types.index("text/csv") < types.index("application/json")
    )
