"""Which key points the router writes: new items only, first event of a request wins."""

from __future__ import annotations

import json
import uuid

from services.router.consumer import key_point_columns
from shared.events import KeyPoint
from tests.fixtures.factories import classified

POINT = KeyPoint(text="Le compteur sera coupé le 8 janvier.", source="lettre.pdf", page=1)


def test_only_new_items_with_key_points_are_written_once() -> None:
    new = classified().model_copy(update={"key_points": [POINT]})
    twin = new.model_copy(update={"key_points": [KeyPoint(text="Autre chose ici.")]})
    old = classified().model_copy(update={"key_points": [POINT]})
    plain = classified()
    created = [uuid.UUID(new.request_id), uuid.UUID(plain.request_id)]
    ids, points = key_point_columns([new, twin, old, plain], created)
    assert ids == [uuid.UUID(new.request_id)]
    assert [json.loads(p) for p in points] == [[POINT.model_dump()]]


def test_an_upper_case_request_id_still_matches_its_item() -> None:
    event = classified().model_copy(update={"key_points": [POINT]})
    shouting = event.model_copy(update={"request_id": event.request_id.upper()})
    ids, _ = key_point_columns([shouting], [uuid.UUID(event.request_id)])
    assert ids == [uuid.UUID(event.request_id)]
