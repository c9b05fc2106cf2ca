"""The item page's key points: above the full text, escaped, each with its source."""

from __future__ import annotations

from tests.unit.web.test_render import HOSTILE, fake_item, item_page

POINTS = [
    {"text": "Sibelga coupe le courant le 14 janvier.", "source": "body", "page": None},
    {"text": HOSTILE, "source": "certificat.pdf", "page": 2},
    {"text": "Le concentrateur d'oxygène est électrique.", "source": "note.docx", "page": None},
]


def test_key_points_come_before_the_full_text_with_where_they_come_from() -> None:
    html = item_page(fake_item(key_points=POINTS))
    assert html.index('id="key-points"') < html.index('id="request-body"')
    assert 'Sibelga coupe le courant le 14 janvier. <span class="sub">(message)</span>' in html
    assert "(certificat.pdf, page 2)" in html and "(note.docx)" in html
    assert "<script>" not in html
    assert "Key points" in html


def test_no_key_points_no_section() -> None:
    for item in (fake_item(), fake_item(key_points=[]), fake_item(key_points=None)):
        assert 'id="key-points"' not in item_page(item)


def test_a_purged_item_shows_no_key_points() -> None:
    html = item_page(fake_item(key_points=POINTS, purged_at=fake_item()["queued_at"]))
    assert 'id="key-points"' not in html
