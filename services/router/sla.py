"""Working days and due dates.

A working day is a weekday that is neither a Belgian public holiday (the
``holidays`` package) nor one of the administration's extra closing days from
the rules: 15 November (Dynasty Day, when federal and many local services
close), a community day (11 July Flemish, 27 September French, 15 November
German-speaking), 26 December, bridge days... An SLA of N working days means: the
end of the N-th working day after the day the request counts as received; a
request that arrives on a closed day or after closing time counts as received
on the next working day. So N = 0 is "the same working day".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

_RECURRING = re.compile(r"^(\d{2})-(\d{2})$")
_ONE_OFF = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_closed_day(text: str) -> tuple[int, int] | date:
    """``"MM-DD"`` (every year) or ``"YYYY-MM-DD"`` (once); ValueError otherwise."""
    if m := _RECURRING.match(text):
        month, day = int(m[1]), int(m[2])
        date(2024, month, day)  # a leap year: validates 02-29 too; raises ValueError
        return (month, day)
    if _ONE_OFF.match(text):
        return date.fromisoformat(text)
    raise ValueError(f"{text!r} is neither MM-DD (every year) nor YYYY-MM-DD (one day)")


@dataclass
class WorkCalendar:
    country: str = "BE"
    closed: Iterable[str] = ()
    _recurring: set[tuple[int, int]] = field(init=False, default_factory=set)
    _one_off: set[date] = field(init=False, default_factory=set)
    _public: holidays.HolidayBase = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for text in self.closed:
            parsed = parse_closed_day(text)
            if isinstance(parsed, date):
                self._one_off.add(parsed)
            else:
                self._recurring.add(parsed)
        # The holidays object fills in years lazily as dates are looked up.
        self._public = holidays.country_holidays(self.country)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self._public or day in self._one_off:
            return False
        return (day.month, day.day) not in self._recurring

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        for _ in range(n):
            day = self.next_working_day(day)
        return day


def due_at(
    received_at: datetime,
    working_days: int,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    closing: time,
) -> datetime:
    """End of the ``working_days``-th working day after reception, as an aware UTC time."""
    if received_at.tzinfo is None:  # contracts carry aware times; treat a naive one as UTC
        received_at = received_at.replace(tzinfo=UTC)
    local = received_at.astimezone(tz)
    day = local.date()
    if not calendar.is_working_day(day) or local.time() >= closing:
        day = calendar.next_working_day(day)
    day = calendar.add_working_days(day, working_days)
    return datetime.combine(day, closing, tzinfo=tz).astimezone(UTC)
