"""What a letter says about its item: reference, dates, team, the requester (pure).

The requester's name and address come from the request's metadata when the
intake system gave them (``requester_name``, ``requester_address``, or the
e-mail ``from`` header's display name); anything else is left for the agent to
fill in, never guessed from the free text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from services.router.sla import WorkCalendar
from services.router.web.i18n import Translator

# "Send the missing documents within 15 working days": the usual delay the
# administrations give, counted with the same calendar as the SLA.
REPLY_WORKING_DAYS = 15
NAME_KEYS = ("requester_name", "name", "full_name")
ADDRESS_KEYS = ("requester_address", "address", "postal_address")
FROM_KEYS = ("from", "email_from", "sender")
MAX_LINE = 120


@dataclass(frozen=True)
class Admin:
    name: str
    address: list[str] = field(default_factory=list)
    contact: str = ""


def _text(metadata: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def requester_of(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"name": str, "address": [lines]}`` from the request's metadata."""
    metadata = metadata or {}
    name = _text(metadata, NAME_KEYS)
    if not name:
        display, _address = parseaddr(_text(metadata, FROM_KEYS))
        name = display.strip()
    address = _text(metadata, ADDRESS_KEYS)
    lines = [ln.strip()[:MAX_LINE] for ln in address.replace(";", "\n").splitlines()]
    return {"name": name[:MAX_LINE], "address": [ln for ln in lines if ln][:6]}


def letter_context(
    item: Mapping[str, Any],
    language: str,
    *,
    admin: Admin,
    calendar: WorkCalendar,
    now: datetime,
    agent: str = "",
) -> dict[str, Any]:
    """The variables every template sees (see README "Letters"); ``now`` is in the
    administration's time zone (its date is the letter's date)."""
    return {
        "admin": {"name": admin.name, "address": list(admin.address), "contact": admin.contact},
        "reference": str(item["request_id"]),
        "external_id": item.get("external_id") or "",
        "received_at": item["received_at"],
        "due_at": item["due_at"],
        "today": now,
        "reply_by": calendar.add_working_days(now.date(), REPLY_WORKING_DAYS),
        "team": Translator(language).label("team", item["queue"]),
        "requester": requester_of(item.get("metadata")),
        "agent": agent,
    }
