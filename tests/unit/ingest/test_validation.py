"""Ingest validation and event building, without I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from services.ingest.intake import Ingest
from services.ingest.publisher import Publisher
from services.ingest.settings import IngestSettings
from services.ingest.validation import (
    EARLIEST_RECEIVED,
    Rules,
    check_received_at,
    check_text,
)
from shared.auth import hash_secret
from shared.errors import ApiError
from shared.events import RequestReceived, request_id_for
from tests.fixtures.samples import GOOD


@pytest.fixture
def ingest() -> Ingest:
    settings = IngestSettings(ingest_api_keys={"demo": hash_secret("k")}, ingest_max_text_chars=100)
    outcomes = Counter("o", "o", ["outcome"], registry=CollectorRegistry())
    return Ingest(settings, publisher=None, outcomes=outcomes)  # type: ignore[arg-type]


def _problem(ingest: Ingest, data: object) -> ApiError:
    with pytest.raises(ApiError) as info:
        ingest.rules.validate(data, "demo")
    return info.value


def test_valid_request_becomes_an_event(ingest: Ingest) -> None:
    item = ingest.rules.validate(dict(GOOD, received_at="2026-11-20T09:00:00+01:00"), "demo")
    event = ingest.to_event(item)
    assert isinstance(event, RequestReceived)
    assert event.request_id == request_id_for("demo", "case-1")
    assert event.received_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert event.body == GOOD["body"]


def test_request_id_is_deterministic_and_source_scoped() -> None:
    assert request_id_for("demo", "1") == request_id_for("demo", "1")
    assert request_id_for("demo", "1") != request_id_for("other", "1")
    assert request_id_for("a", "b\x1fc") != request_id_for("a\x1fb", "c")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"body": "   "}, "body", "must not be empty"),
        ({"body": None}, "body", "must be a string"),
        ({"channel": "fax"}, "channel", "must be one of"),
        ({"received_at": "2026-11-20T09:00:00"}, "received_at", "timezone"),
        ({"unknown": 1}, "unknown", "unknown field"),
        ({"external_id": 12}, "external_id", "must be a string"),
        ({"language": "french"}, "language", "pattern"),
        ({"metadata": {"k": [1]}}, "metadata.k", ""),
    ],
)
def test_bad_fields_are_named(
    ingest: Ingest, change: dict[str, Any], field: str, words: str
) -> None:
    err = _problem(ingest, {**GOOD, **change})
    assert err.status == 422
    assert any(d["field"].startswith(field) and words in d["problem"] for d in err.details), (
        err.details
    )


def test_missing_field(ingest: Ingest) -> None:
    data = dict(GOOD)
    del data["body"]
    err = _problem(ingest, data)
    assert {"field": "body", "problem": "required field is missing"} in err.details


def test_not_an_object(ingest: Ingest) -> None:
    assert _problem(ingest, [1, 2]).status == 422


def test_text_too_long_is_413(ingest: Ingest) -> None:
    err = _problem(ingest, dict(GOOD, body="x" * 101))
    assert err.status == 413
    assert "100 characters" in err.message


def test_other_source_is_403(ingest: Ingest) -> None:
    err = _problem(ingest, dict(GOOD, source="other"))
    assert err.status == 403


def test_batch_envelope() -> None:
    _batch_items = Rules(IngestSettings(ingest_max_batch=5)).batch_items
    assert _batch_items({"requests": [1, 2]}) == [1, 2]
    bad_envelopes: list[object] = [
        {},
        {"requests": []},
        {"requests": {}},
        [],
        {"requests": [1], "x": 1},
    ]
    for bad in bad_envelopes:
        with pytest.raises(ApiError):
            _batch_items(bad)
    with pytest.raises(ApiError) as info:
        _batch_items({"requests": [1] * 6})
    assert info.value.status == 413


def test_keys_must_be_stored_hashed() -> None:
    with pytest.raises(ValidationError, match="hashed"):
        IngestSettings(ingest_api_keys={"demo": "plain-key"})


# Every text field of a request, as (change to GOOD, the field the 422 names).
TEXT_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"subject": "a{c}b"}, "subject"),
    ({"body": "a{c}b"}, "body"),
    ({"attachments": [{"name": "a{c}.txt", "text": "x"}]}, "attachments.0.name"),
    ({"attachments": [{"name": "a.txt", "text": "x{c}"}]}, "attachments.0.text"),
    ({"metadata": {"k{c}": "v"}}, "metadata"),
    ({"metadata": {"k": "v{c}"}}, "metadata.k"),
    ({"external_id": "id{c}"}, "external_id"),
    ({"source": "demo{c}"}, "source"),
    ({"language": "f{c}"}, "language"),
]


def _filled(change: dict[str, Any], char: str) -> dict[str, Any]:
    return json.loads(json.dumps(change).replace("{c}", json.dumps(char)[1:-1]))


@pytest.mark.parametrize(("change", "field"), TEXT_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\ud800"])
def test_control_characters_are_refused_in_every_text_field(
    ingest: Ingest, change: dict[str, Any], field: str, char: str
) -> None:
    err = _problem(ingest, {**GOOD, **_filled(change, char)})
    assert err.status == 422
    assert any(d["field"].startswith(field) for d in err.details), err.details


@pytest.mark.parametrize(("change", "field"), TEXT_FIELDS[:6])
def test_tab_and_newlines_are_text(ingest: Ingest, change: dict[str, Any], field: str) -> None:
    ingest.rules.validate({**GOOD, **_filled(change, "\t\r\n")}, "demo")


def test_check_text_names_the_character() -> None:
    with pytest.raises(ValueError, match="U\\+0000 at position 1"):
        check_text("a\x00b")
    assert check_text("tab\tline\nend\r\n é €") == "tab\tline\nend\r\n é €"


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00+00:00", "1999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+00:00"],
)
def test_absurd_received_at_is_refused(ingest: Ingest, when: str) -> None:
    err = _problem(ingest, dict(GOOD, received_at=when))
    assert err.status == 422
    assert [d["field"] for d in err.details] == ["received_at"], err.details


def test_received_at_bounds() -> None:
    assert check_received_at(EARLIEST_RECEIVED) == EARLIEST_RECEIVED
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert check_received_at(soon) == soon
    with pytest.raises(ValueError, match="future"):
        check_received_at(datetime.now(UTC) + timedelta(days=2))


async def test_a_request_whose_event_would_not_fit_the_topics_is_413() -> None:
    """The size is checked before the broker is asked (here there is none at all)."""
    settings = IngestSettings(ingest_api_keys={"demo": hash_secret("k")})
    publisher = Publisher(None, "t", 1.0, CollectorRegistry(), max_bytes=2_000)  # type: ignore[arg-type]
    outcomes = Counter("o", "o", ["outcome"], registry=CollectorRegistry())
    ingest = Ingest(settings, publisher, outcomes)
    item = ingest.rules.validate(dict(GOOD, body="\U0001d11e" * 600), "demo")
    with pytest.raises(ApiError) as info:
        await ingest.accept(item)
    assert info.value.status == 413 and "message size" in info.value.message
