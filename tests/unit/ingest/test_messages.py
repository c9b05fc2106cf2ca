"""``POST /v1/messages``: a raw e-mail as a gateway forwards it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.events import DOCUMENTS_TOPIC, request_id_for
from testing import documents as d
from tests.unit.ingest.test_files import KEY, _client

RFC822 = {**KEY, "Content-Type": "message/rfc822"}
PLAIN = (
    b"From: a@example.be\r\nTo: cpas@example.be\r\nSubject: Aide\r\n"
    b"Message-ID: <plain-1@example.be>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0100\r\n\r\n"
    b"Bonjour, j'ai besoin d'aide pour mon loyer.\r\n"
)


def test_html_mail_with_pdf_and_the_same_mail_resent() -> None:
    client, recorder, ledger = _client()
    raw = d.html_email("<html-1@mail.example.be>")
    first = client.post("/v1/messages", content=raw, headers=RFC822)
    again = client.post("/v1/messages", content=raw, headers=RFC822)
    assert first.status_code == again.status_code == 202, first.text
    assert first.json() == again.json()
    assert first.json()["request_id"] == request_id_for("demo", "html-1@mail.example.be")
    event, topic = recorder.published[0]
    assert topic == DOCUMENTS_TOPIC
    assert event.channel == "email" and event.subject == "Demande d'aide - coupure de gaz"
    assert "couper le gaz" in event.body and "<b>" not in event.body
    assert event.received_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert [(r.name, r.content_type) for r in event.documents] == [("lettre.pdf", d.PDF_TYPE)]
    assert ledger.files[event.request_id][0].data.startswith(b"%PDF-")


def test_plain_text_mail_goes_to_the_classifier_directly() -> None:
    client, recorder, _ = _client()
    assert client.post("/v1/messages", content=PLAIN, headers=RFC822).status_code == 202
    event, topic = recorder.published[0]
    assert topic is None and event.body == "Bonjour, j'ai besoin d'aide pour mon loyer."
    assert event.external_id == "plain-1@example.be"


def test_same_message_id_other_content_is_409() -> None:
    client, _, _ = _client()
    client.post("/v1/messages", content=PLAIN, headers=RFC822)
    other = PLAIN.replace(b"loyer", b"chauffage")
    assert client.post("/v1/messages", content=other, headers=RFC822).status_code == 409


HEADERS_ONLY = PLAIN.split(b"\r\n\r\n")[0].replace(b"Subject: Aide\r\n", b"") + b"\r\n\r\n"
MALFORMED = {
    "empty": (b"", "message"),
    "no headers": (b"just some text\r\n", "From"),
    "no Message-ID": (PLAIN.replace(b"Message-ID: <plain-1@example.be>\r\n", b""), "Message-ID"),
    "bad Message-ID": (PLAIN.replace(b"<plain-1@example.be>", b"<a b>"), "Message-ID"),
    "bad Date": (PLAIN.replace(b"Fri, 20 Nov 2026 10:00:00 +0100", b"yesterday"), "Date"),
    "no text": (HEADERS_ONLY, "message"),
}  # fmt: skip


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_messages_get_422_saying_what(case: str) -> None:
    raw, field = MALFORMED[case]
    client, recorder, _ = _client()
    response = client.post("/v1/messages", content=raw, headers=RFC822)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "malformed_message"
    assert response.json()["details"][0]["field"] == field
    assert recorder.published == []


def test_wrong_content_type_is_415_and_a_bad_attachment_is_named() -> None:
    client, _, _ = _client()
    headers = {**KEY, "Content-Type": "text/plain"}
    assert client.post("/v1/messages", content=PLAIN, headers=headers).status_code == 415
    raw = d.html_email().replace(b"application/pdf", b"image/png")
    response = client.post("/v1/messages", content=raw, headers=RFC822)
    assert response.status_code == 415 and "lettre.pdf" in response.json()["message"]


def test_no_key_is_401() -> None:
    client, _, _ = _client()
    response = client.post(
        "/v1/messages", content=PLAIN, headers={"Content-Type": "message/rfc822"}
    )
    assert response.status_code == 401
