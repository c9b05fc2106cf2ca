"""The related-cases section of the item page, rendered without a server."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from tests.unit.web.test_render import ALICE, LEAD, NOW, fake_item, item_page


def _related(**changes: Any) -> dict[str, Any]:
    other = {
        "request_id": uuid.uuid4(),
        "queue": "housing",
        "status": "waiting",
        "type": "housing",
        "urgency": "normal",
        "received_at": NOW - timedelta(days=2),
    }
    related = {
        "same_person": [{**other, "shared": 2}],
        "duplicates": [{**other, "request_id": uuid.uuid4(), "similarity": 0.97}],
        "duplicate_of": None,
    }
    related.update(changes)
    return related


def test_section_lists_and_links_both_kinds_with_a_labelled_close_form() -> None:
    related = _related()
    html = item_page(fake_item(related=related))
    section = html[html.index('id="related"') :]
    for row in (*related["same_person"], *related["duplicates"]):
        assert f'href="/ui/items/{row["request_id"]}"' in section
    assert "97%" in section or "97 %" in section
    ids = set(re.findall(r'<(?:select|textarea|input)[^>]*\bid="([^"]+)"', html))
    assert "d-original" in ids and ids <= set(re.findall(r'<label for="([^"]+)"', html))


def test_close_form_only_for_the_holder_and_done_items_say_duplicate_of() -> None:
    assert 'id="d-original"' not in item_page(fake_item(related=_related()), LEAD)
    assert 'id="d-original"' not in item_page(
        fake_item(related=_related(duplicates=[], same_person=[])), ALICE
    )
    original = uuid.uuid4()
    done = fake_item(
        status="done", claimed_by=None, completed_by="alice", completed_at=NOW,
        related=_related(duplicate_of=original),
    )  # fmt: skip
    html = item_page(done)
    assert 'id="duplicate-of"' in html and f'href="/ui/items/{original}"' in html
    assert 'id="d-original"' not in html
    assert 'id="related"' not in item_page(fake_item())  # an item without related data
