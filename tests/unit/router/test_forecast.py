"""The demand forecast's calendar, yardsticks and fit (pure parts of issue 17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.router.forecast import (
    DayForecast,
    calendar_features,
    coverage,
    dense,
    forecast_days,
    mase,
    over_capacity,
    seasonal_naive,
)
from services.router.insights import build_forecast
from services.router.sla import WorkCalendar
from triage.demo_history import daily_arrivals

pytestmark = pytest.mark.unit
CALENDAR = WorkCalendar("BE", ["11-15", "12-26"])


def test_features_mark_holidays_closing_days_and_the_catch_up() -> None:
    days = [date(2025, 11, d) for d in (10, 11, 12, 14, 17)]  # 11: Armistice
    rows = calendar_features(days, CALENDAR.is_working_day)
    assert rows[0][0] == 1 and rows[1][6] == 1 and rows[2][7] == 1
    assert rows[3][7] == 0 and rows[4][7] == 0  # a plain Monday is no catch-up
    # 15 November (Dynasty Day, a closing day) falls on a Saturday in 2025: weekend term only
    assert calendar_features([date(2024, 11, 15)], CALENDAR.is_working_day)[0][6] == 1


def test_seasonal_naive_mase_coverage_and_capacity() -> None:
    history = [float(i % 7) for i in range(28)]
    assert seasonal_naive(history, 9)[:2] == [0.0, 1.0] and seasonal_naive(history, 9)[7] == 0.0
    assert mase([1, 2], [1, 2], [0, 0, 0, 0, 0, 0, 0, 1, 1]) == 0.0
    days = [DayForecast(date(2025, 1, 1), 5.2, 3.4, 7.6), DayForecast(date(2025, 1, 2), 9, 8, 10)]
    assert coverage([8, 11], days) == 0.5
    assert over_capacity(days, 6.0) == [date(2025, 1, 2)] and over_capacity(days, None) == []
    assert dense({date(2025, 1, 2): 3}, date(2025, 1, 1), date(2025, 1, 3)) == [0.0, 3.0, 0.0]


def test_the_forecast_beats_seasonal_naive_around_a_holiday() -> None:
    start = date(2024, 12, 2)
    cut = (date(2025, 11, 3) - start).days  # the fortnight holds 11 November (a Tuesday)
    ours, naive = [], []
    arrivals = daily_arrivals(start, 365, CALENDAR.is_working_day)
    for counts in (arrivals[q] for q in ("civil_status", "energy_aid", "housing")):
        forecast = forecast_days(counts[:cut], start, 14, CALENDAR.is_working_day)
        actual, history = counts[cut : cut + 14], counts[:cut]
        assert forecast[0].day == date(2025, 11, 3) and len(forecast) == 14
        assert all(f.lower <= f.expected <= f.upper for f in forecast)
        ours.append(mase(actual, [f.expected for f in forecast], history))
        naive.append(mase(actual, seasonal_naive(history, 14), history))
    assert sum(ours) < sum(naive)


def test_a_young_queue_is_too_new_to_forecast() -> None:
    today = date(2025, 11, 20)
    counts = {today - timedelta(days=d): 5 for d in range(1, 20)}
    result = build_forecast("housing", counts, today, 14, CALENDAR, 10.0)
    assert result.status == "insufficient_history" and result.days == []
    assert result.history_days == 19 and len(result.actuals) == 28
