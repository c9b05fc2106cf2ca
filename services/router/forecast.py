"""Daily demand forecast per queue (pure: counts in, forecast out; no I/O).

The model (statsmodels, state space): log(1 + arrivals) follows a local linear
trend (level and slope that drift: the trend, and a winter peak as it builds
up) plus regression on the calendar: one term per weekday (the weekly pattern),
a closed-weekday term (Belgian public holidays and the administration's closing
days, the SLA's own calendar: ``WorkCalendar.is_working_day``) and a catch-up
term for the first working day after a closed one. The prediction interval
comes from the state-space forecast variance, mapped back through exp - 1.

It is refitted once a day on the last ``FIT_DAYS`` days; one fit takes a fraction
of a second. Seasonal-naive (the same weekday last week) is the yardstick of the
backtest (``benchmarks/forecast``), with MASE and interval coverage below.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from statsmodels.tsa.statespace.structural import UnobservedComponents

IsWorkingDay = Callable[[date], bool]
FIT_DAYS = 182  # half a year: enough weeks for the weekday terms, recent enough to adapt
MIN_HISTORY_DAYS = 28  # four of each weekday, below which a queue is "too new to forecast"
LEVEL = 0.8  # the interval a team lead reads: 8 days in 10 land inside
SEASON = 7


@dataclass(frozen=True)
class DayForecast:
    day: date
    expected: float
    lower: float
    upper: float


def calendar_features(days: Sequence[date], is_working_day: IsWorkingDay) -> np.ndarray:
    """One row per day: Monday..Saturday indicators, closed weekday, catch-up day."""
    rows = []
    for day in days:
        weekday = [1.0 if day.weekday() == k else 0.0 for k in range(6)]
        closed = day.weekday() < 5 and not is_working_day(day)
        rows.append([*weekday, float(closed), float(_catch_up(day, is_working_day))])
    return np.asarray(rows)


def _catch_up(day: date, is_working_day: IsWorkingDay) -> bool:
    """The first working day after a closed WEEKDAY (a plain Monday is the weekday term's)."""
    if not is_working_day(day):
        return False
    before = day - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return not is_working_day(before) and (day - before).days <= 4


def forecast_days(
    history: Sequence[float],
    first_day: date,
    horizon: int,
    is_working_day: IsWorkingDay,
    level: float = LEVEL,
) -> list[DayForecast]:
    """Forecast ``horizon`` days after a history of daily counts starting ``first_day``."""
    y = np.log1p(np.asarray(history[-FIT_DAYS:], dtype=float))
    start = first_day + timedelta(days=len(history) - len(y))
    past = [start + timedelta(days=i) for i in range(len(y))]
    future = [past[-1] + timedelta(days=i + 1) for i in range(horizon)]
    model = UnobservedComponents(
        y, level="local linear trend", exog=calendar_features(past, is_working_day)
    )
    with warnings.catch_warnings():  # convergence chatter on short or flat series
        warnings.simplefilter("ignore")
        fitted = model.fit(disp=False, maxiter=200)
        prediction = fitted.get_forecast(horizon, exog=calendar_features(future, is_working_day))
    mean = np.expm1(prediction.predicted_mean)
    bounds = np.expm1(prediction.conf_int(alpha=1 - level))
    return [
        DayForecast(day, max(float(m), 0.0), max(float(lo), 0.0), max(float(hi), 0.0))
        for day, m, (lo, hi) in zip(future, mean, bounds, strict=True)
    ]


def seasonal_naive(history: Sequence[float], horizon: int) -> list[float]:
    """The same weekday last week, repeated."""
    last_week = list(history[-SEASON:])
    return [float(last_week[i % SEASON]) for i in range(horizon)]


def mase(actual: Sequence[float], predicted: Sequence[float], history: Sequence[float]) -> float:
    """Mean absolute error scaled by the in-sample error of seasonal-naive (< 1: better)."""
    h = np.asarray(history, dtype=float)
    scale = float(np.mean(np.abs(h[SEASON:] - h[:-SEASON])))
    error = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(predicted, float))))
    return error / scale if scale else float("inf")


def coverage(actual: Sequence[float], forecast: Sequence[DayForecast]) -> float:
    """Share of actual counts inside the (integer-rounded) prediction interval."""
    inside = [
        np.floor(f.lower) <= a <= np.ceil(f.upper) for a, f in zip(actual, forecast, strict=True)
    ]
    return float(np.mean(inside))


def over_capacity(forecast: Sequence[DayForecast], capacity: float | None) -> list[date]:
    """Days whose expected arrivals exceed what the queue's agents can handle."""
    if capacity is None:
        return []
    return [f.day for f in forecast if f.expected > capacity]


def dense(counts: dict[date, int], first: date, last: date) -> list[float]:
    """Counts per day from ``first`` to ``last`` inclusive, 0 on days without a request."""
    return [float(counts.get(first + timedelta(days=i), 0)) for i in range((last - first).days + 1)]
