"""Routing rules: a YAML file validated at start, and the pure routing function.

type → queue (team); urgency → priority and SLA in working days;
``needs_review`` → the review queue; an unknown type → the fallback queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.router.sla import WorkCalendar, due_at, parse_closed_day
from shared.events import Urgency
from shared.settings import ConfigError

_QUEUE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class RulesError(ConfigError):
    """Rules that cannot be used; the message names the file, the field and the problem."""


def _queue_name(value: str) -> str:
    if not _QUEUE.match(value):
        raise ValueError(
            f"queue name {value!r} must be lower-case letters, digits and _ (max 63), "
            "starting with a letter"
        )
    return value


QueueName = Annotated[str, AfterValidator(_queue_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrgencyRule(_Strict):
    priority: int = Field(ge=1, le=9, description="1 is served first")
    working_days: int = Field(ge=0, le=250, description="SLA; 0 = the same working day")


class CalendarRule(_Strict):
    country: str = "BE"
    extra_closed_days: list[str] = Field(default_factory=list)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"no public holiday calendar for country {value!r}")
        return value

    @field_validator("extra_closed_days")
    @classmethod
    def _valid_days(cls, days: list[str]) -> list[str]:
        for day in days:
            parse_closed_day(day)
        return days


class RoutingRules(_Strict):
    timezone: str = "Europe/Brussels"
    closing_time: time = Field(time(17, 0), description="end of the working day (local time)")
    calendar: CalendarRule = Field(default_factory=lambda: CalendarRule())
    review_queue: QueueName = "review"
    fallback_queue: QueueName = "fallback"
    types: dict[str, QueueName] = Field(min_length=1, description="classifier type → queue")
    urgencies: dict[Urgency, UrgencyRule]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("urgencies")
    @classmethod
    def _all_urgencies(cls, value: dict[Urgency, UrgencyRule]) -> dict[Urgency, UrgencyRule]:
        missing = [u.value for u in Urgency if u not in value]
        if missing:
            raise ValueError(f"missing urgency level(s): {', '.join(missing)}")
        return value

    def queues(self) -> list[str]:
        """Every queue these rules can route to, sorted."""
        return sorted({*self.types.values(), self.review_queue, self.fallback_queue})


@dataclass(frozen=True)
class Route:
    queue: str
    priority: int
    due_at: datetime


class Routing:
    """Validated rules plus the working-day calendar they imply."""

    def __init__(self, rules: RoutingRules, closed_days: Iterable[str] = ()) -> None:
        """``closed_days``: the administration's closing days from the settings, on top
        of the rules' (both "MM-DD" or "YYYY-MM-DD")."""
        self.rules = rules
        self.tz = ZoneInfo(rules.timezone)
        closed = [*rules.calendar.extra_closed_days, *closed_days]
        self.calendar = WorkCalendar(rules.calendar.country, closed)

    @cached_property
    def queues(self) -> list[str]:
        return self.rules.queues()

    @cached_property
    def types(self) -> list[str]:
        return sorted(self.rules.types)

    def route(self, type_: str, urgency: str, needs_review: bool, received_at: datetime) -> Route:
        """(queue, priority, due_at) for one classified request; pure apart from the rules."""
        level = self.rules.urgencies[Urgency(urgency)]
        if needs_review:
            queue = self.rules.review_queue
        else:
            queue = self.rules.types.get(type_, self.rules.fallback_queue)
        due = due_at(
            received_at, level.working_days, self.calendar, self.tz, self.rules.closing_time
        )
        return Route(queue, level.priority, due)


def parse_rules(data: Any, origin: str = "rules", closed_days: Iterable[str] = ()) -> Routing:
    try:
        rules = RoutingRules.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{origin}: {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise RulesError("invalid routing rules:\n  " + "\n  ".join(problems)) from exc
    return Routing(rules, closed_days)


def load_rules(path: Path, closed_days: Iterable[str] = ()) -> Routing:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read routing rules: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a mapping with 'types' and 'urgencies'")
    return parse_rules(data, str(path), closed_days)
