"""Due dates: working days skip weekends, Belgian public holidays and extra closing days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.router.sla import WorkCalendar, due_at, parse_closed_day

BRUSSELS = ZoneInfo("Europe/Brussels")
CLOSING = time(17, 0)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


def due(received: datetime, days: int, calendar: WorkCalendar | None = None) -> datetime:
    calendar = calendar or WorkCalendar("BE", ["11-15", "12-26"])
    return due_at(received, days, calendar, BRUSSELS, CLOSING).astimezone(BRUSSELS)


def test_critical_on_a_working_day_is_due_the_same_evening() -> None:
    assert due(local(2025, 3, 12, 9, 30), 0) == local(2025, 3, 12, 17, 0)


def test_critical_on_a_saturday_is_due_monday_end_of_day() -> None:
    assert due(local(2025, 3, 15, 11, 0), 0) == local(2025, 3, 17, 17, 0)


def test_after_closing_time_counts_from_the_next_working_day() -> None:
    assert due(local(2025, 3, 12, 17, 0), 0) == local(2025, 3, 13, 17, 0)
    assert due(local(2025, 3, 14, 18, 30), 0) == local(2025, 3, 17, 17, 0)  # Friday evening


def test_high_on_christmas_eve_skips_christmas_the_26th_and_the_weekend() -> None:
    # Wed 24 Dec 2025: 25 (public holiday), 26 (extra closing day), 27-28 weekend
    assert due(local(2025, 12, 24, 10, 0), 2) == local(2025, 12, 30, 17, 0)


def test_without_extra_closing_days_only_public_holidays_count() -> None:
    plain = WorkCalendar("BE", [])
    assert due(local(2025, 12, 24, 10, 0), 2, plain) == local(2025, 12, 29, 17, 0)


def test_easter_monday_and_ascension_are_skipped() -> None:
    # Thu 17 Apr 2025 + 2: Fri 18 (1), Mon 21 Easter Monday skipped, Tue 22 (2)
    assert due(local(2025, 4, 17, 9, 0), 2) == local(2025, 4, 22, 17, 0)
    # Wed 28 May 2025 + 1: Thu 29 Ascension skipped, Fri 30 (1)
    assert due(local(2025, 5, 28, 9, 0), 1) == local(2025, 5, 30, 17, 0)


def test_dynasty_day_is_an_extra_closing_day_every_year() -> None:
    cal = WorkCalendar("BE", ["11-15"])
    assert not cal.is_working_day(date(2027, 11, 15))  # a Monday
    assert WorkCalendar("BE", []).is_working_day(date(2027, 11, 15))


def test_one_off_closing_day() -> None:
    cal = WorkCalendar("BE", ["2025-03-13"])
    assert due(local(2025, 3, 12, 9, 0), 1, cal) == local(2025, 3, 14, 17, 0)


def test_community_day_as_an_extra_closing_day() -> None:
    flemish = WorkCalendar("BE", ["07-11"])
    assert not flemish.is_working_day(date(2025, 7, 11))  # a Friday
    assert WorkCalendar("BE", []).is_working_day(date(2025, 7, 11))


def test_normal_ten_working_days_and_low_thirty() -> None:
    assert due(local(2025, 3, 3, 9, 0), 10) == local(2025, 3, 17, 17, 0)
    assert due(local(2025, 3, 3, 9, 0), 30) == local(2025, 4, 14, 17, 0)


def test_closing_time_is_local_in_summer_and_in_winter() -> None:
    cal = WorkCalendar("BE", [])
    summer = due_at(datetime(2025, 7, 1, 8, tzinfo=UTC), 0, cal, BRUSSELS, CLOSING)
    winter = due_at(datetime(2025, 1, 7, 8, tzinfo=UTC), 0, cal, BRUSSELS, CLOSING)
    assert (summer.hour, winter.hour) == (15, 16)  # 17:00 CEST / CET in UTC
    assert summer.tzinfo == UTC


def test_a_naive_time_is_taken_as_utc() -> None:
    cal = WorkCalendar("BE", [])
    naive = due_at(datetime(2025, 3, 12, 15, 30), 0, cal, BRUSSELS, CLOSING)
    assert naive == due_at(datetime(2025, 3, 12, 15, 30, tzinfo=UTC), 0, cal, BRUSSELS, CLOSING)
    assert naive.astimezone(BRUSSELS).date() == date(2025, 3, 12)


def test_utc_evening_can_be_after_closing_in_brussels() -> None:
    # 16:30 UTC in March is 17:30 in Brussels: after closing
    got = due(datetime(2025, 3, 12, 16, 30, tzinfo=UTC), 0)
    assert got == local(2025, 3, 13, 17, 0)


@pytest.mark.parametrize("text", ["11-15", "02-29", "2025-12-31"])
def test_closed_day_formats(text: str) -> None:
    parse_closed_day(text)


@pytest.mark.parametrize("text", ["15-11", "11/15", "2025-02-30", "tomorrow", "1-5"])
def test_invalid_closed_days(text: str) -> None:
    with pytest.raises(ValueError):
        parse_closed_day(text)
