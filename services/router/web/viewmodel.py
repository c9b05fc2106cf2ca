"""Shapes the router's read-side dicts into what the templates show (pure)."""

from __future__ import annotations

from typing import Any

from services.router.auth import Principal
from services.router.rules import Routing

TOP = 3
NEIGHBOURS = 5


def priority_columns(routing: Routing) -> list[tuple[int, str]]:
    """(priority, urgency) pairs in serving order, for the overview's columns."""
    pairs = {rule.priority: urgency.value for urgency, rule in routing.rules.urgencies.items()}
    return sorted(pairs.items())


def queue_choices(routing: Routing, current: str) -> list[str]:
    return [q for q in routing.queues if q != current]


def _scores(entries: Any) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        return []
    valid = [e for e in entries if isinstance(e, dict) and "label" in e]
    return sorted(valid, key=lambda e: -float(e.get("probability") or 0))[:TOP]


def _summary(event: dict[str, Any]) -> dict[str, Any]:
    """The few details of an audit event worth a line on the page."""
    d = event.get("details") or {}
    kind = event["event"]
    if kind == "routed":
        return {"queue": d.get("queue", event["queue"]), "model": d.get("model_version", "")}
    if kind in ("claimed", "heartbeat"):
        return {"until": d.get("lease_expires_at")}
    if kind in ("released", "lease_expired"):
        return {"holder": d.get("holder") or "—"}
    if kind == "reassigned":
        return {"from": d.get("from", ""), "to": d.get("to", "")}
    if kind == "corrected":
        before, after = d.get("before") or {}, d.get("after") or {}
        return {"before": before, "after": after}
    if kind in ("completed", "confirmed"):
        return {"type": d.get("type", ""), "urgency": d.get("urgency", "")}
    return {}


def item_view(item: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The item plus what the page needs to decide which buttons to offer."""
    classification = item.get("classification") or {}
    explanation = classification.get("explanation") or {}
    open_ = item["status"] != "done"
    mine = item["status"] == "claimed" and item["claimed_by"] == who.name
    return {
        **item,
        "mine": mine,
        "can_finish": open_ and mine,
        "can_release": open_ and item["status"] == "claimed" and (mine or who.is_lead),
        "can_change": open_ and (mine or who.is_lead),
        "confidence": {
            "type": classification.get("type_confidence"),
            "urgency": classification.get("urgency_confidence"),
            "language": classification.get("language_confidence"),
        },
        "review_reasons": classification.get("review_reasons") or [],
        "top_types": _scores(explanation.get("top_types")),
        "top_urgencies": _scores(explanation.get("top_urgencies")),
        "cues": [c for c in explanation.get("cues") or [] if isinstance(c, dict)],
        "neighbours": [n for n in explanation.get("neighbours") or [] if isinstance(n, dict)][
            :NEIGHBOURS
        ],
        "key_points": [p for p in item.get("key_points") or [] if isinstance(p, dict)],
        "events": [{**h, "summary": _summary(h)} for h in item.get("history") or []],
    }
