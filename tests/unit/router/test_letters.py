"""Letter templates: every kind in every language, dates against the SLA (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from services.router.letters.fields import Admin, letter_context, requester_of
from services.router.letters.render import (
    ACKNOWLEDGEMENT,
    LANGUAGES,
    TemplateMissing,
    environment,
    kinds,
    letter_language,
    render,
    to_html,
)
from services.router.rules import Routing, load_rules
from services.router.settings import DEFAULT_RULES

BRUSSELS = ZoneInfo("Europe/Brussels")
ADMIN = Admin("CPAS de Test", ["Rue du Test 1", "1000 Bruxelles"], "02 000 00 00")
# Friday before Easter Monday 2026 (6 April, a Belgian public holiday), in the morning.
FRIDAY = datetime(2026, 4, 3, 10, 0, tzinfo=BRUSSELS)
DUE_WORDS = {"fr": "mercredi 8 avril 2026", "nl": "woensdag 8 april 2026", "en": "April 8, 2026"}


@pytest.fixture(scope="module")
def routing() -> Routing:
    return load_rules(DEFAULT_RULES)


def item(routing: Routing, **metadata: Any) -> dict[str, Any]:
    route = routing.route("energy_aid", "high", False, FRIDAY)  # 2 working days
    return {
        "request_id": "0b8a6c1e-5f7a-4c1b-9d43-6a1f0e2b7c55",
        "external_id": "web-42",
        "received_at": FRIDAY.astimezone(UTC),
        "due_at": route.due_at,
        "queue": route.queue,
        "metadata": metadata,
    }


def context(routing: Routing, language: str, **metadata: Any) -> dict[str, Any]:
    now = datetime(2026, 4, 7, 9, 0, tzinfo=BRUSSELS)
    return letter_context(
        item(routing, **metadata),
        language,
        admin=ADMIN,
        calendar=routing.calendar,
        now=now,
        agent="alice",
    )


def test_the_due_date_skips_easter_monday(routing: Routing) -> None:
    due = item(routing)["due_at"].astimezone(BRUSSELS)
    assert due.date().isoformat() == "2026-04-08"


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_states_the_sla_due_date(routing: Routing, language: str) -> None:
    env = environment(BRUSSELS)
    ctx = context(routing, language)
    letter = render(env, ACKNOWLEDGEMENT, language, ctx)
    due = ctx["due_at"].astimezone(BRUSSELS).date()
    locale = {"fr": "fr_BE", "nl": "nl_BE", "en": "en"}[language]
    assert format_date(due, "full", locale=locale) in letter.text
    assert DUE_WORDS[language] in letter.text
    assert ctx["reference"] in letter.subject and "\n" not in letter.subject
    assert ADMIN.contact in letter.text and "\n\n\n" not in letter.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language(routing: Routing, language: str) -> None:
    env = environment(BRUSSELS)
    found = kinds(env)
    assert {"documents_missing", "appointment", "decision_notified", "forwarded"} <= set(found)
    for kind in [ACKNOWLEDGEMENT, *found]:
        letter = render(env, kind, language, context(routing, language, name="Ann Peeters"))
        assert letter.subject and "Ann Peeters" in letter.text, kind
        assert "{{" not in letter.text and "{%" not in letter.text, kind


def test_dates_are_written_in_the_letter_language(routing: Routing) -> None:
    env = environment(BRUSSELS)
    texts = {
        lang: render(env, "documents_missing", lang, context(routing, lang)).text
        for lang in LANGUAGES
    }
    # 7 April 2026 + 15 working days = 28 April (no holiday in between)
    assert "mardi 28 avril 2026" in texts["fr"]
    assert "dinsdag 28 april 2026" in texts["nl"]
    assert "Tuesday, April 28, 2026" in texts["en"]


def test_html_is_escaped(routing: Routing) -> None:
    env = environment(BRUSSELS)
    ctx = context(routing, "en", requester_name="<script>x</script>")
    letter = render(env, ACKNOWLEDGEMENT, "en", ctx)
    html = to_html(env, letter, {**ctx, "language": "en"})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<p>") >= 5 and "<h1>" in html


def test_an_override_folder_replaces_and_adds_templates(tmp_path: Path, routing: Routing) -> None:
    for lang in LANGUAGES:
        (tmp_path / f"reminder.{lang}.j2").write_text(
            "{% block subject %}R {{ reference }}{% endblock %}{% block body %}Hi{% endblock %}"
        )
    (tmp_path / "acknowledgement.en.j2").write_text(
        "{% block subject %}Ours{% endblock %}{% block body %}{{ due_at|weekday }}{% endblock %}"
    )
    env = environment(BRUSSELS, tmp_path)
    assert "reminder" in kinds(env)
    letter = render(env, ACKNOWLEDGEMENT, "en", context(routing, "en"))
    assert (letter.subject, letter.text) == ("Ours", "Wednesday\n")


def test_the_sandbox_refuses_python_internals(tmp_path: Path, routing: Routing) -> None:
    from jinja2.exceptions import SecurityError

    (tmp_path / "evil.en.j2").write_text(
        "{% block subject %}x{% endblock %}"
        "{% block body %}{{ reference.__class__.__mro__[1].__subclasses__() }}{% endblock %}"
    )
    with pytest.raises(SecurityError):
        render(environment(BRUSSELS, tmp_path), "evil", "en", context(routing, "en"))


def test_unknown_kind_or_language() -> None:
    with pytest.raises(TemplateMissing):
        render(environment(BRUSSELS), "nope", "en", {})


@pytest.mark.parametrize(
    ("metadata", "name", "address"),
    [
        (
            {"requester_name": "Ann Peeters", "requester_address": "Rue A 1; 1000 Bruxelles"},
            "Ann Peeters",
            ["Rue A 1", "1000 Bruxelles"],
        ),
        ({"from": "Jan Janssens <jan@example.be>"}, "Jan Janssens", []),
        ({"from": "jan@example.be"}, "", []),
        ({}, "", []),
        ({"name": 42}, "", []),
    ],
)
def test_requester_from_metadata(metadata: dict[str, Any], name: str, address: list[str]) -> None:
    assert requester_of(metadata) == {"name": name, "address": address}


@pytest.mark.parametrize(
    ("given", "expected"), [("nl", "nl"), ("fr-BE", "fr"), ("de", "fr"), (None, "fr"), ("EN", "en")]
)
def test_letter_language(given: str | None, expected: str) -> None:
    assert letter_language(given, "fr") == expected


def test_closing_days_from_the_settings_move_the_due_date() -> None:
    from services.router.settings import RouterSettings

    settings = RouterSettings(router_closed_days=["2026-04-07", "12-24"])  # type: ignore[call-arg]
    closed = load_rules(DEFAULT_RULES, settings.router_closed_days)
    due = closed.route("energy_aid", "high", False, FRIDAY).due_at.astimezone(BRUSSELS)
    assert due.date().isoformat() == "2026-04-09"  # Easter Monday and the closing day skipped
    assert not closed.calendar.is_working_day(datetime(2027, 12, 24).date())


def test_a_bad_closing_day_is_refused() -> None:
    from pydantic import ValidationError

    from services.router.settings import RouterSettings

    with pytest.raises(ValidationError, match="neither MM-DD"):
        RouterSettings(router_closed_days=["24/12"])  # type: ignore[call-arg]


def test_pdf_of_a_letter(routing: Routing) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from services.router.letters.pdf import letter_pdf
    from services.router.letters.settings import DEJAVU

    ctx = {**context(routing, "nl", name="Zoë Çelik", address="Kerkstraat 1"), "language": "nl"}
    letter = render(environment(BRUSSELS), ACKNOWLEDGEMENT, "nl", ctx)
    data = letter_pdf(letter.subject, letter.text, ctx, date_line="7 april 2026", font_dir=DEJAVU)
    assert data.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    assert "Zoë Çelik" in text and DUE_WORDS["nl"] in text and "Kerkstraat 1" in text


def test_a_broken_edited_template_stops_the_start(tmp_path: Path, routing: Routing) -> None:
    from services.router.letters.render import check_templates
    from shared.settings import ConfigError

    check_templates(environment(BRUSSELS), lambda lang: context(routing, lang))  # shipped: fine
    (tmp_path / "forwarded.nl.j2").write_text(
        "{% block subject %}x{% endblock %}{% block body %}{{ no_such_field }}{% endblock %}"
    )
    with pytest.raises(ConfigError, match=r"forwarded\.nl\.j2: 'no_such_field' is undefined"):
        check_templates(environment(BRUSSELS, tmp_path), lambda lang: context(routing, lang))
    (tmp_path / "forwarded.nl.j2").write_text("{% block subject %}x{% endblock %}{% block body")
    with pytest.raises(ConfigError, match=r"forwarded\.nl\.j2"):
        check_templates(environment(BRUSSELS, tmp_path), lambda lang: context(routing, lang))


def test_every_shipped_letter_has_a_label_on_the_page() -> None:
    from services.router.web.i18n import LANGUAGES as PAGE_LANGUAGES
    from services.router.web.i18n import catalogue

    for language in PAGE_LANGUAGES:
        labels = catalogue(language)
        assert [k for k in kinds(environment(BRUSSELS)) if f"letter_kind.{k}" not in labels] == []


def test_pdf_with_a_logo_and_missing_files(tmp_path: Path, routing: Routing) -> None:
    from PIL import Image

    from services.router.letters.pdf import check_files, letter_pdf
    from services.router.letters.settings import DEJAVU
    from shared.settings import ConfigError

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (10, 74, 143)).save(logo)
    check_files(DEJAVU, logo)
    ctx = {**context(routing, "fr"), "language": "fr"}
    data = letter_pdf(
        "Objet", "Texte.\n", ctx, date_line="7 avril 2026", font_dir=DEJAVU, logo=logo
    )
    assert data.startswith(b"%PDF-") and b"/Image" in data
    with pytest.raises(ConfigError, match="fonts-dejavu-core"):
        check_files(tmp_path, None)
    with pytest.raises(ConfigError, match="TRIAGE_LETTERS_LOGO"):
        check_files(DEJAVU, tmp_path / "none.png")


def test_the_router_refuses_to_start_with_a_broken_template(tmp_path: Path) -> None:
    from services.router.app import create_app
    from services.router.settings import RouterSettings
    from shared.settings import ConfigError

    (tmp_path / "acknowledgement.fr.j2").write_text("{% block subject %}{{ oops(){% endblock %}")
    settings = RouterSettings(letters_templates_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"acknowledgement\.fr\.j2"):
        create_app(settings)
    assert create_app(RouterSettings()).state.router.letter_book.kinds()  # type: ignore[call-arg]
