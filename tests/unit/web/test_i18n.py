"""The page's translations: three catalogues with the same keys, every label used exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES
from services.router.web.i18n import LANGUAGES, Translator, catalogue, negotiate
from shared.events import Channel, Urgency

WEB = Path(__file__).resolve().parents[3] / "services" / "router" / "web"
# t("key") / t('key') with a literal key, in templates and Python.
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")
# t("prefix." ~ value) and t.label("prefix", value): every value of the prefix must exist.
DYNAMIC = re.compile(r"""\bt(?:\.label)?\(\s*["']([a-z_.]+?)\.?["']\s*(?:~|,)""")


def audit_events() -> set[str]:
    """The audit event kinds the schema allows (its CHECK constraint)."""
    schema = (WEB.parent / "sql" / "schema.sql").read_text()
    match = re.search(r"event IN \(([^)]*)\)", schema)
    assert match, "no event CHECK constraint in schema.sql"
    return set(re.findall(r"'([a-z_]+)'", match.group(1)))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_three_catalogues_have_the_same_keys() -> None:
    english = set(catalogue("en"))
    for language in LANGUAGES:
        keys = set(catalogue(language))
        assert keys == english, (
            f"{language}: missing {sorted(english - keys)}, extra {sorted(keys - english)}"
        )


def test_placeholders_match_and_no_label_is_empty() -> None:
    for key, english in catalogue("en").items():
        for language in LANGUAGES:
            text = catalogue(language)[key]
            assert text.strip(), f"{language}.json: {key} is empty"
            assert placeholders(text) == placeholders(english), f"{language}.json: {key}"


def _sources() -> list[Path]:
    return [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]


def test_every_label_used_exists() -> None:
    known = set(catalogue("en"))
    used = {key for path in _sources() for key in LITERAL.findall(path.read_text())}
    assert used, "no t('...') found: the pattern is out of date"
    assert sorted(used - known) == []


def test_every_data_value_has_a_label() -> None:
    routing = load_rules(DEFAULT_RULES)
    prefixes = {p for path in _sources() for p in DYNAMIC.findall(path.read_text())}
    assert {"team", "urgency", "channel", "event", "role"} <= prefixes
    english = catalogue("en")
    expected = {
        "team": {*routing.queues, *routing.types},
        "urgency": {u.value for u in Urgency},
        "channel": {c.value for c in Channel},
        "role": {"agent", "lead"},
        "event": audit_events(),
        "language.native": set(LANGUAGES),
    }
    for prefix, values in expected.items():
        missing = sorted(v for v in values if f"{prefix}.{v}" not in english)
        assert missing == [], f"no label for {prefix}: {missing}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-BE,nl;q=0.9,en;q=0.5", "nl"),
        ("fr-BE", "fr"),
        ("de-DE,de;q=0.9,fr;q=0.4,en;q=0.3", "fr"),
        ("en-GB,en;q=0.9", "en"),
        ("en;q=0.2, nl;q=0.8", "nl"),
        ("fr, nl", "fr"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("nl;q=abc, fr;q=0.1", "fr"),
    ],
)
def test_language_from_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_default_language_when_none_matches() -> None:
    assert negotiate("de-DE", default="nl") == "nl"


def test_translator() -> None:
    t = Translator("fr")
    assert t("queue.take_next") == "Prendre la suivante"
    assert t("nav.signed_in_as", name="Ann") == "Connecté·e : Ann"
    assert t("no.such.key") == "no.such.key"
    assert t.label("team", "housing") == "Logement"
    assert t.label("team", "custom_queue") == "custom_queue"  # a queue of custom rules
    assert t.label("team", None) == ""
