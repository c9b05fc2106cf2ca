"""Templates and formatting without a server: escaping, buttons offered, ages, times."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.router.auth import Principal
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES
from services.router.web.i18n import Translator
from services.router.web.render import Formatter, environment, short_id
from services.router.web.viewmodel import item_view, priority_columns

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
ALICE = Principal("alice", "agent", frozenset({"energy_aid"}))
LEAD = Principal("lena", "lead", None)
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def fake_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "request_id": uuid.uuid4(),
        "queue": "energy_aid",
        "status": "claimed",
        "priority": 2,
        "urgency": "high",
        "type": "energy_aid",
        "language": "fr",
        "needs_review": True,
        "due_at": NOW - timedelta(hours=1),
        "queued_at": NOW,
        "updated_at": NOW,
        "claimed_by": "alice",
        "claimed_at": NOW,
        "lease_expires_at": NOW + timedelta(minutes=30),
        "completed_by": None,
        "completed_at": None,
        "corrected": False,
        "model_type": "energy_aid",
        "model_urgency": "high",
        "model_version": "m-1",
        "classified_at": NOW,
        "purged_at": None,
        "request": {
            "source": "demo",
            "external_id": "e-1",
            "channel": "email",
            "received_at": NOW - timedelta(days=1),
            "accepted_at": NOW,
            "subject": HOSTILE,
            "body": HOSTILE,
            "attachments": [{"name": HOSTILE, "text": HOSTILE}],
            "metadata": {},
        },
        "classification": {
            "type_confidence": 0.9,
            "review_reasons": ["low_confidence"],
            "explanation": {
                "top_types": [
                    {"label": "housing", "probability": 0.05},
                    {"label": "energy_aid", "probability": 0.9},
                    {"label": "food_aid", "probability": 0.03},
                    {"label": "debt_mediation", "probability": 0.02},
                ],
                "top_urgencies": [{"label": "high", "probability": 0.8}],
                "cues": [{"cue": "energy_cutoff", "level": "high", "snippet": HOSTILE}],
                "neighbours": [
                    {"case_id": HOSTILE, "type": "energy_aid", "urgency": None, "similarity": 0.8}
                ],
            },
        },
        "history": [
            {
                "at": NOW,
                "event": "routed",
                "actor": "router",
                "queue": "energy_aid",
                "details": {"queue": "energy_aid", "model_version": "m-1"},
            },
            {
                "at": NOW,
                "event": "corrected",
                "actor": HOSTILE,
                "queue": "energy_aid",
                "details": {
                    "before": {"type": "energy_aid", "urgency": "high"},
                    "after": {"type": "energy_aid", "urgency": "low"},
                },
            },
        ],
        "corrections": [],
    }
    item.update(changes)
    return item


def render(template: str, who: Principal | None = ALICE, **context: Any) -> str:
    env = environment()
    env.globals["asset"] = lambda name: f"/ui/static/{name}"
    t = Translator("en")
    base = {
        "t": t,
        "lang": "en",
        "languages": ("fr", "nl", "en"),
        "fmt": Formatter(t, ZoneInfo("Europe/Brussels"), NOW),
        "short_id": short_id,
        "user": who,
        "csrf": "tok",
        "prefix": "/ui",
        "here": "/ui/",
        "notice": None,
        "error": None,
        "current": None,
        "session_user": True,
    }
    return env.get_template(template).render({**base, **context})


def item_page(item: dict[str, Any], who: Principal = ALICE, **extra: Any) -> str:
    routing = load_rules(DEFAULT_RULES)
    return render(
        "item.html",
        who,
        item=item_view(item, who),
        queues=[q for q in routing.queues if q != item["queue"]],
        types=routing.types,
        urgencies=["critical", "high", "normal", "low"],
        **extra,
    )


def test_request_text_is_escaped_everywhere() -> None:
    html = item_page(fake_item())
    assert "<script>" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 6  # every place it shows
    assert '<html lang="en">' in html


def test_buttons_follow_the_rules_of_the_desk() -> None:
    mine = item_page(fake_item())
    assert "/complete" in mine and "/correct" in mine and "/reassign" in mine
    theirs = item_page(fake_item(claimed_by="bob"))
    assert "/complete" not in theirs and "/correct" not in theirs
    assert "bob is working on this item." in theirs
    lead = item_page(fake_item(claimed_by="bob"), LEAD)
    assert "/complete" not in lead and "/release" in lead and "/correct" in lead
    done = item_page(fake_item(status="done", completed_by="alice", claimed_by=None), LEAD)
    assert "/complete" not in done and "/release" not in done and "/correct" not in done
    for html in (mine, theirs, lead):
        assert html.count('name="csrf" value="tok"') == html.count('method="post"')
    assert "/confirm" in mine and "/confirm" in lead and "/confirm" not in theirs
    assert "/confirm" not in item_page(fake_item(corrected=True))  # already a human label


def test_item_view_keeps_the_top_three_scores_in_order() -> None:
    view = item_view(fake_item(), ALICE)
    assert [s["label"] for s in view["top_types"]] == ["energy_aid", "housing", "food_aid"]
    assert view["events"][1]["summary"]["after"]["urgency"] == "low"
    assert view["mine"] and view["can_finish"]


def test_every_control_has_a_label() -> None:
    html = item_page(fake_item())
    ids = set(re.findall(r'<(?:select|textarea|input)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert ids and ids <= labelled


def test_overview_highlights_past_due_queues() -> None:
    routing = load_rules(DEFAULT_RULES)
    queues = [
        {
            "queue": "energy_aid",
            "waiting": 3,
            "claimed": 1,
            "past_due": 2,
            "oldest_waiting_age_s": 90061.0,
            "by_priority": {"2": {"waiting": 3, "claimed": 1}},
        },
        {
            "queue": "housing",
            "waiting": 0,
            "claimed": 0,
            "past_due": 0,
            "oldest_waiting_age_s": None,
            "by_priority": {},
        },
    ]
    html = render("overview.html", queues=queues, priorities=priority_columns(routing))
    assert '<tr data-queue="energy_aid" class="late">' in html
    assert '<tr data-queue="housing">' in html
    assert "2 past due" in html and "1 d 1 h" in html
    assert '<th scope="row"><a href="/ui/queues/energy_aid">Energy aid</a></th>' in html


def test_formatter() -> None:
    fmt = Formatter(Translator("nl"), ZoneInfo("Europe/Brussels"), NOW)
    assert fmt.age(None) == "—"
    assert fmt.age(30) == "< 1 min"
    assert fmt.age(125) == "2 min"
    assert fmt.age(3 * 3600 + 120) == "3 u 2 min"
    assert fmt.age(2 * 86400 + 5 * 3600) == "2 d 5 u"
    assert fmt.when(NOW) == "2026-03-05 10:30"  # Brussels, winter time
    assert fmt.when("2026-07-01T08:00:00+00:00") == "2026-07-01 10:00"
    assert fmt.when(None) == "—" and fmt.when("garbage") == "—"
    assert fmt.overdue(NOW - timedelta(seconds=1)) and not fmt.overdue(NOW + timedelta(1))
    assert Formatter(Translator("fr"), UTC, NOW).percent(0.914) == "91 %"
    assert fmt.percent(None) == "—"


def test_priority_columns_follow_the_rules() -> None:
    routing = load_rules(DEFAULT_RULES)
    assert priority_columns(routing) == [(1, "critical"), (2, "high"), (3, "normal"), (4, "low")]


def test_letters_section_escapes_and_labels_its_controls() -> None:
    letter = {
        "id": 7,
        "kind": "documents_missing",
        "language": "fr",
        "subject": "<b>objet</b>",
        "body": "Texte <script>alert(2)</script>",
        "updated_by": "alice",
        "updated_at": NOW,
        "validated_by": None,
        "validated_at": None,
    }
    sent = {**letter, "id": 8, "status": "validated", "validated_by": "bob", "validated_at": NOW}
    item = fake_item(letters=[{**letter, "status": "draft"}, sent], letter_language="nl")
    html = item_page(item, letter_kinds=["appointment", "documents_missing"])
    assert "<script>alert(2)" not in html and "&lt;script&gt;alert(2)" in html
    assert 'id="letter-7-body"' in html and "/letters/8.pdf" in html
    assert "/letters/7.pdf" not in html  # a draft is not downloadable
    assert '<option value="nl" selected>' in html
    ids = set(re.findall(r'<(?:select|textarea|input)[^>]*\bid="([^"]+)"', html))
    assert (
        {"letter-7-subject", "letter-kind"} <= ids <= set(re.findall(r'<label for="([^"]+)"', html))
    )


def test_review_reasons_show_translated_and_unknown_codes_as_they_are() -> None:
    item = fake_item()
    item["classification"]["review_reasons"] = ["unknown_type", "top_two_close", "new_code"]
    html = item_page(item)
    assert (
        "unknown type: like none of the known types; the two best types are close; new_code" in html
    )
