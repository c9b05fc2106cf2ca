"""The pure side of `triage erase`: identifiers normalised, searched and confirmed."""

from __future__ import annotations

import re

import pytest

from services.router.erase import erasure_statements, mentions, normalise, search_pattern


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("niss", "85.07.30-033.28", "85073003328"),
        ("niss", "850730 033 28", "85073003328"),
        ("iban", "be68 5390 0754 7034", "BE68539007547034"),
        ("email", " Jan.Peeters@Example.be ", "jan.peeters@example.be"),
    ],
)
def test_identifiers_are_normalised(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value"),
    [("niss", "85073003329"), ("iban", "BE68539007547035"), ("email", "no-at-sign")],
)
def test_invalid_identifiers_are_refused(kind: str, value: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        normalise(kind, value)  # type: ignore[arg-type]


def test_search_pattern_allows_separators() -> None:
    # PostgreSQL's [[:alnum:]] class, approximated here with Python's re for the check
    pattern = search_pattern("niss", "85073003328").replace("[^[:alnum:]]", r"[^0-9A-Za-z]")
    for written in ("85.07.30-033.28", "85 07 30 - 033 28", "85073003328"):
        assert re.search(pattern, written)
    assert search_pattern("email", "a.b+c@d.be") == r"a\.b\+c\@d\.be"


def test_mentions_needs_that_exact_identifier() -> None:
    text = "NISS 85.07.30-033.28 en 90.02.01-997.04, mail jan@example.be"
    assert mentions(text, "niss", "85073003328")
    assert mentions(text, "niss", "90020199704")
    assert not mentions(text, "niss", "85073003410")
    assert mentions(text, "email", "jan@example.be")
    assert not mentions("dossier 850730033289", "niss", "85073003328")  # a longer number


def test_every_table_with_personal_data_has_its_erasure_statement() -> None:
    assert list(erasure_statements()) == [
        "work_items", "letters", "documents", "intake_requests", "item_identities",
        "item_embeddings", "item_duplicates", "audit_events", "corrections",
    ]  # fmt: skip
    assert all("$1::uuid[]" in sql for sql in erasure_statements().values())
