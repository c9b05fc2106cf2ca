"""Ingest validation and event building, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from services.ingest.intake import Ingest
from services.ingest.settings import IngestSettings
from services.ingest.validation import Rules
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
