"""The largest possible event of each type fits the broker's maximum message size.

The events are built from the models themselves: every string gets its
``max_length`` in 4-byte characters (UTF-8's widest; ingest refuses the control
characters JSON would escape wider), every list and dict its ``max_length`` items,
every number its longest JSON form. A field without a bound makes this test fail:
when you add a field to an event, give it a ``max_length`` (or, for a bound that is
not one field's, an entry in ``BUDGETS``), and this test sums it in.
"""

from __future__ import annotations

import json
import types
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from annotated_types import MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from services.classifier.settings import ClassifierSettings
from services.ingest.settings import IngestSettings
from shared.events import (
    CLASSIFIED_OVERHEAD_BYTES,
    MAX_CUE_HITS,
    MAX_SNIPPET_CHARS,
    DeadLetter,
    RequestClassified,
    RequestReceived,
    encode,
)
from shared.settings import KafkaSettings

WIDE = "\U0001d11e"  # four bytes in UTF-8
SETTINGS = KafkaSettings()
# What ingest accepts, plus the text the extraction stage may add from documents.
MAX_TEXT = IngestSettings().ingest_max_text_chars + ClassifierSettings().extract_max_chars
# Strings bounded by something else than their own max_length: (filler, length).
BUDGETS: dict[str, tuple[str, int]] = {
    # ingest: subject + body + attachment texts <= TRIAGE_INGEST_MAX_TEXT_CHARS, and the
    # extracted pages <= TRIAGE_EXTRACT_MAX_CHARS; all of it in the body is the worst
    # split (others only add per-field overhead)
    "RequestReceived.body": (WIDE, MAX_TEXT),
    "RequestReceived.subject": (WIDE, 0),
    "Attachment.text": (WIDE, 0),
    "RequestReceived.source": (WIDE, 64),  # ingest's pattern
    "RequestReceived.external_id": ('"', 200),  # printable ASCII: '"' escapes to 2 bytes
    "RequestReceived.language": (WIDE, 2),
    "RequestReceived.request_id": (WIDE, 36),  # a UUID
    "RequestClassified.request_id": (WIDE, 36),
    "RelatedKeys.identity_hashes[]": ("f", 32),  # hex, by its pattern
    "DeadLetter.stage": (WIDE, 32),
    "DeadLetter.reason": (WIDE, 32),
    "DeadLetter.error": (WIDE, 2000),  # cut by BatchConsumer
    "DeadLetter.original_topic": (WIDE, 249),  # Kafka's limit on topic names
    "DeadLetter.original_key": ('"', 36),
    # the record's bytes as text: at most max_message_bytes, each escaped to at most
    # two bytes ('"'); text with control characters is stored as base64 (4/3)
    "DeadLetter.payload": ('"', SETTINGS.kafka_max_message_bytes),
}
BUDGETS.update({f"{m}.event_id": (WIDE, 36) for m in ("RequestReceived", "RequestClassified",
                                                      "DeadLetter")})  # fmt: skip
LONGEST_FLOAT = -2.2250738585072014e-308
LONGEST_INT = -9_223_372_036_854_775_808
LONGEST_TIME = datetime(2999, 12, 31, 23, 59, 59, 999_999, timezone(timedelta(hours=-23)))


def largest(model: type[BaseModel]) -> Any:
    values = {
        name: _value(info.annotation, info.metadata, f"{model.__name__}.{name}")
        for name, info in model.model_fields.items()
    }
    return model.model_construct(**values)


def _max_len(metadata: list[Any]) -> int | None:
    # Field(max_length=...) inside Annotated arrives as a FieldInfo holding a MaxLen
    flat = [c for m in metadata for c in (m.metadata if isinstance(m, FieldInfo) else [m])]
    bounds = [m.max_length for m in flat if isinstance(m, MaxLen)]
    bounds += [m.max_length for m in flat if not isinstance(m, MaxLen) and
               getattr(m, "max_length", None) is not None]  # fmt: skip
    return min(bounds) if bounds else None


def _value(annotation: Any, metadata: list[Any], path: str, index: int = 0) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _value(args[0], [*metadata, *args[1:]], path, index)
    if origin in (Union, types.UnionType):
        options = [_value(a, metadata, path, index) for a in args if a is not type(None)]
        return max(options, key=lambda v: len(repr(v).encode()))
    if origin is Literal:
        return max(args, key=len)
    if origin is list:
        return [_value(args[0], [], f"{path}[]", i) for i in range(_bounded(metadata, path))]
    if origin is dict:
        return {
            _value(args[0], [], f"{path}{{}}", i): _value(args[1], [], f"{path}[]", i)
            for i in range(_bounded(metadata, path))
        }
    return _scalar(annotation, metadata, path, index)


def _scalar(annotation: Any, metadata: list[Any], path: str, index: int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return largest(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return max(annotation, key=lambda e: len(str(e.value)))
    if annotation is bool:
        return False
    if annotation is int:
        return LONGEST_INT
    if annotation is float:
        return LONGEST_FLOAT
    if annotation is datetime:
        return LONGEST_TIME
    if annotation is str:
        if path in BUDGETS:
            filler, length = BUDGETS[path]
            return filler * length
        length = _bounded(metadata, path)
        # distinct keys: the last character numbers the item
        return WIDE * (length - 1) + chr(0x10000 + index) if length else ""
    raise AssertionError(f"{path}: no size rule for {annotation!r}; extend this test")


def _bounded(metadata: list[Any], path: str) -> int:
    bound = _max_len(metadata)
    if bound is None:
        raise AssertionError(
            f"{path} has no max_length: every event field must be bounded (issue 13)"
        )
    return bound


def test_the_largest_received_event_leaves_room_for_its_classification() -> None:
    size = len(encode(largest(RequestReceived)))
    assert size <= SETTINGS.kafka_max_message_bytes - CLASSIFIED_OVERHEAD_BYTES, size


def test_a_classification_adds_at_most_the_overhead_ingest_leaves_for_it() -> None:
    event: RequestClassified = largest(RequestClassified)
    overhead = len(encode(event)) - len(encode(event.request))
    assert overhead <= CLASSIFIED_OVERHEAD_BYTES, overhead
    assert len(encode(event)) <= SETTINGS.kafka_max_message_bytes


def test_the_largest_dead_letter_fits_the_dead_letter_limit() -> None:
    size = len(encode(largest(DeadLetter)))
    assert size <= SETTINGS.deadletter_max_bytes, size


def test_an_unbounded_field_is_reported() -> None:
    class Unbounded(BaseModel):
        notes: list[str]

    with pytest.raises(AssertionError, match=r"Unbounded\.notes has no max_length"):
        largest(Unbounded)


def test_an_event_from_before_the_bounds_is_cut_not_refused() -> None:
    """A rolling upgrade: the old classifier kept every cue hit; the new router reads it."""
    event = largest(RequestClassified)
    data = json.loads(encode(event))
    hit = {"cue": "homeless", "level": "critical", "snippet": "x" * 500}
    data["classification"]["explanation"]["cues"] = [hit] * 40
    decoded = RequestClassified.model_validate(data)
    cues = decoded.classification.explanation.cues
    assert len(cues) == MAX_CUE_HITS and len(cues[0].snippet) == MAX_SNIPPET_CHARS
