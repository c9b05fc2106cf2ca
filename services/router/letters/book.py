"""The administration's letter book: templates, name and address, fonts and logo.

Built with the router's configuration (``build_state``) and checked there: every
template renders in every language and the fonts and logo exist, or the router
does not start (``ConfigError`` naming the file). No database: the store
(``store.py``) fills the letters in from items.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date

from services.router.letters.fields import Admin, letter_context
from services.router.letters.pdf import check_files, letter_pdf
from services.router.letters.render import (
    LOCALES,
    check_templates,
    environment,
    kinds,
    letter_language,
)
from services.router.letters.settings import LetterSettings
from services.router.rules import Routing

# What the templates are checked with at start (every variable a real item gives).
SAMPLE_ITEM = {
    "request_id": "00000000-0000-0000-0000-000000000000",
    "external_id": "sample",
    "received_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    "due_at": datetime(2026, 1, 7, 16, 0, tzinfo=UTC),
    "queue": "general_information",
    "metadata": {"requester_name": "Sample", "requester_address": "Street 1; 1000 City"},
}


class LetterBook:
    def __init__(self, routing: Routing, settings: LetterSettings) -> None:
        self.routing = routing
        self.settings = settings
        self.env = environment(routing.tz, settings.letters_templates_dir)
        self.admin = Admin(
            settings.letters_admin_name,
            list(settings.letters_admin_address),
            settings.letters_admin_contact,
        )
        check_templates(self.env, lambda language: self.context(SAMPLE_ITEM, language, "agent"))
        check_files(settings.letters_font_dir, settings.letters_logo)
        self._kinds = kinds(self.env)  # the folder is read once, like the templates

    def kinds(self) -> list[str]:
        return list(self._kinds)

    def language_of(self, item: Any) -> str:
        return letter_language(item["language"], self.settings.letters_default_language)

    def context(self, item: Any, language: str, agent: str = "") -> dict[str, Any]:
        now = datetime.now(self.routing.tz)
        values = letter_context(
            item, language, admin=self.admin, calendar=self.routing.calendar, now=now, agent=agent
        )
        return {**values, "language": language}

    async def pdf(self, subject: str, text: str, context: dict[str, Any], when: datetime) -> bytes:
        """The letter as PDF, dated ``when`` (in the administration's time zone)."""
        locale = LOCALES[context["language"]]
        date_line = format_date(when.astimezone(self.routing.tz).date(), "long", locale=locale)
        # fpdf2 is pure Python: a thread keeps the event loop serving meanwhile.
        return await asyncio.to_thread(
            letter_pdf,
            subject,
            text,
            context,
            date_line=date_line,
            font_dir=self.settings.letters_font_dir,
            logo=self.settings.letters_logo,
        )
