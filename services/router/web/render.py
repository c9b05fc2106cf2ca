"""Jinja2 templates (autoescaped: request text always shows as text) and formatting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2

from services.router.web.i18n import Translator

TEMPLATES = Path(__file__).with_name("templates")


def environment(directory: Path = TEMPLATES) -> jinja2.Environment:
    # autoescape=True for every template, whatever its name: the request text comes
    # from citizens and must never become markup.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Formatter:
    """Numbers, ages and times in the page's language and the rules' time zone."""

    t: Translator
    tz: tzinfo
    now: datetime

    def age(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        minutes = int(seconds // 60)
        if minutes < 1:
            return self.t("age.under_minute")
        if minutes < 60:
            return self.t("age.minutes", m=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return self.t("age.hours", h=hours, m=minutes)
        days, hours = divmod(hours, 24)
        return self.t("age.days", d=days, h=hours)

    def since(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return self.age(max((self.now - moment).total_seconds(), 0.0))

    def when(self, moment: datetime | str | None) -> str:
        """Local date and time, unambiguous in the three languages (2026-03-05 17:00)."""
        parsed = parse_time(moment)
        if parsed is None:
            return "—"
        return parsed.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def iso(self, moment: datetime | str | None) -> str:
        parsed = parse_time(moment)
        return parsed.isoformat() if parsed else ""

    def overdue(self, moment: datetime | None) -> bool:
        return moment is not None and moment < self.now

    def percent(self, value: Any) -> str:
        try:
            return self.t("fmt.percent", n=round(float(value) * 100))
        except (TypeError, ValueError):
            return "—"


def parse_time(moment: datetime | str | None) -> datetime | None:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(moment, str) and moment:
        try:
            return parse_time(datetime.fromisoformat(moment))
        except ValueError:
            return None
    return None


def short_id(value: object) -> str:
    return str(value)[:8]
