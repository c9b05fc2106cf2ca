"""A synthetic year of requests, for demos and the forecast's backtest (pure, seeded).

Nothing here is real: every item carries ``source = "synthetic-demo"`` and
``metadata.synthetic = true`` so that nobody mistakes it for an administration's
data. Daily arrivals per queue follow what a CPAS sees: a weekly pattern (Monday
busiest, web forms still arrive at weekends), almost nothing on public holidays
and closing days and a catch-up the day after, a slow rise over the year, and a
winter peak for energy aid (heating bills, the winter truce on disconnections).
Waiting and handling times shrink over the year: the gain the KPIs show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

SOURCE = "synthetic-demo"
# Requests per working weekday at the start of the year, by type (= queue).
BASE_VOLUME = {
    "social_integration_income": 40.0,
    "energy_aid": 28.0,
    "housing": 20.0,
    "urgent_medical_aid": 10.0,
    "debt_mediation": 15.0,
    "food_aid": 18.0,
    "disability_support": 12.0,
    "civil_status": 35.0,
    "general_information": 25.0,
}
WEEKDAY_FACTOR = (1.3, 1.1, 1.0, 0.95, 0.8, 0.2, 0.12)  # Monday .. Sunday
CLOSED_FACTOR = 0.15  # web forms and e-mail keep coming on a closed weekday
CATCH_UP_FACTOR = 1.35  # letters and calls held back by a closed day
YEARLY_GROWTH = 0.10
DISPERSION = 30.0  # gamma-Poisson: a bit more variable than Poisson, as real counts are
URGENCIES = ["critical", "high", "normal", "low"]
URGENCY_SHARES = [0.05, 0.2, 0.6, 0.15]
REVIEW_SHARE = 0.15
TYPE_CORRECTION = 0.04
URGENCY_CORRECTION = 0.06

IsWorkingDay = Callable[[date], bool]


def winter_peak(day: date) -> float:
    """1 in summer, 2 around mid-January: energy aid's heating season."""
    distance = abs((day - date(day.year, 1, 15)).days)
    distance = min(distance, 365 - distance)
    return 1.0 + math.exp(-0.5 * (distance / 35.0) ** 2)


def expected_arrivals(queue: str, day: date, index: int, is_working_day: IsWorkingDay) -> float:
    """The mean of the synthetic process: day ``index`` of the year for ``queue``."""
    mean = BASE_VOLUME[queue] * WEEKDAY_FACTOR[day.weekday()] * (1 + YEARLY_GROWTH * index / 365)
    if day.weekday() < 5 and not is_working_day(day):
        mean *= CLOSED_FACTOR
    elif is_working_day(day) and not is_working_day(day - timedelta(days=1)):
        mean *= CATCH_UP_FACTOR if day.weekday() != 0 or _closed_friday(day, is_working_day) else 1
    if queue == "energy_aid":
        mean *= winter_peak(day)
    return mean


def _closed_friday(monday: date, is_working_day: IsWorkingDay) -> bool:
    return not is_working_day(monday - timedelta(days=3))


def daily_arrivals(
    start: date, days: int, is_working_day: IsWorkingDay, seed: int = 17
) -> dict[str, list[int]]:
    """Synthetic arrivals per queue for ``days`` days from ``start``."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {}
    for queue in BASE_VOLUME:
        counts = []
        for i in range(days):
            mean = expected_arrivals(queue, start + timedelta(days=i), i, is_working_day)
            counts.append(int(rng.poisson(mean * rng.gamma(DISPERSION, 1 / DISPERSION))))
        out[queue] = counts
    return out


@dataclass(frozen=True)
class SyntheticItem:
    queue: str
    received_at: datetime
    urgency: str
    model_urgency: str
    model_type: str
    needs_review: bool
    language: str
    waited_s: float | None  # None: not claimed yet
    handled_s: float | None  # None: not completed yet


def _received(day: date, working: bool, rng: np.random.Generator, tz: ZoneInfo) -> datetime:
    # Office hours on working days, any hour otherwise (web forms).
    hours = rng.uniform(8, 17) if working else rng.uniform(0, 24)
    local = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=float(hours))
    return local.astimezone(UTC)


def _times(progress: float, age_s: float, rng: np.random.Generator) -> tuple[float | None, ...]:
    # Median wait falls from ~2 days to ~1 day over the year; handling from ~3 to ~2 days.
    waited = float(rng.lognormal(math.log(172800 * (1 - 0.5 * progress)), 0.8))
    handled = waited + float(rng.lognormal(math.log(86400 * (1.2 - 0.4 * progress)), 0.9))
    if waited > age_s:
        return None, None
    return waited, (handled if handled <= age_s else None)


def items(
    start: date,
    days: int,
    is_working_day: IsWorkingDay,
    now: datetime,
    tz: ZoneInfo,
    seed: int = 17,
) -> Iterator[SyntheticItem]:
    """Every synthetic request of the period, with its wait and handling so far."""
    rng = np.random.default_rng(seed + 1)
    types = list(BASE_VOLUME)
    for queue, counts in daily_arrivals(start, days, is_working_day, seed).items():
        for i, count in enumerate(counts):
            day = start + timedelta(days=i)
            for _ in range(count):
                received = _received(day, is_working_day(day), rng, tz)
                waited, handled = _times(i / days, (now - received).total_seconds(), rng)
                urgency = str(rng.choice(URGENCIES, p=URGENCY_SHARES))
                wrong_type = rng.random() < TYPE_CORRECTION
                wrong_urgency = rng.random() < URGENCY_CORRECTION
                yield SyntheticItem(
                    queue=queue,
                    received_at=received,
                    urgency=urgency,
                    model_urgency="normal" if wrong_urgency and urgency != "normal" else urgency,
                    model_type=str(rng.choice(types)) if wrong_type else queue,
                    needs_review=bool(rng.random() < REVIEW_SHARE),
                    language=str(rng.choice(["fr", "nl", "en"], p=[0.55, 0.4, 0.05])),
                    waited_s=waited,
                    handled_s=handled,
                )
