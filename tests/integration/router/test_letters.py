"""Acknowledgements and agents' letters on a real PostgreSQL, through the HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from io import BytesIO
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from pypdf import PdfReader

from services.router.consumer import ReceivedRecorder
from services.router.db import load_queries
from services.router.erase import erase_requests
from services.router.purge import purge
from shared.events import RequestClassified, encode
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth, source_auth

BRUSSELS = ZoneInfo("Europe/Brussels")
# Friday before Easter Monday 2026; urgency high = 2 working days -> Wednesday 8 April.
FRIDAY = datetime(2026, 4, 3, 10, 0, tzinfo=BRUSSELS)
DUE = {"fr": "mercredi 8 avril 2026", "nl": "woensdag 8 april 2026", "en": "April 8, 2026"}
TEAM = {"fr": "Aide énergie", "nl": "Energiehulp", "en": "Energy aid"}


def in_language(language: str, **fields: Any) -> RequestClassified:
    event = classified("energy_aid", "high", received_at=FRIDAY, **fields)
    c = event.classification.model_copy(update={"language": language})
    return event.model_copy(update={"classification": c})


def pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
async def test_acknowledgement_in_the_request_language(
    client: httpx.AsyncClient, store: Store, language: str
) -> None:
    event = in_language(language, metadata={"from": "Zoë Peeters <zoe@example.be>"})
    await store(event)
    url = f"/v1/requests/{event.request_id}/acknowledgement"
    response = await client.get(url, headers=source_auth("demo"))
    assert response.status_code == 200, response.text
    ack = response.json()
    assert ack["language"] == language and event.request_id in ack["subject"]
    assert DUE[language] in ack["text"] and TEAM[language] in ack["text"]
    assert "Zoë Peeters" in ack["text"] and "<p>" in ack["html"]
    assert datetime.fromisoformat(ack["due_at"]).astimezone(BRUSSELS).day == 8

    pdf = await client.get(url, headers={**source_auth("demo"), "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert DUE[language] in text and "Zoë Peeters" in text


async def test_acknowledgement_not_routed_unknown_or_not_yours(
    client: httpx.AsyncClient, pool: asyncpg.Pool, store: Store
) -> None:
    event = classified(source="demo")
    await ReceivedRecorder(pool, load_queries()).handle(
        [SimpleNamespace(value=encode(event.request))]
    )
    url = f"/v1/requests/{event.request_id}/acknowledgement"
    early = await client.get(url, headers=source_auth("demo"))
    assert early.status_code == 409 and early.headers["Retry-After"]
    assert early.json()["error"] == "not_routed"
    assert (await client.get(url, headers=source_auth("other"))).status_code == 404
    unknown = f"/v1/requests/{uuid.uuid4()}/acknowledgement"
    assert (await client.get(unknown, headers=source_auth("demo"))).status_code == 404
    assert (await client.get(url, headers=auth("lena"))).status_code == 401
    await store(event)
    assert (await client.get(url, headers=source_auth("other"))).status_code == 404
    assert (await client.get(url, headers=source_auth("demo"))).status_code == 200


async def test_draft_edit_validate_download(client: httpx.AsyncClient, store: Store) -> None:
    event = in_language("nl", metadata={"requester_name": "Jan Janssens"})
    await store(event)
    base = f"/v1/items/{event.request_id}/letters"
    listing = (await client.get(base, headers=auth("alice"))).json()
    assert {"documents_missing", "appointment", "decision_notified", "forwarded"} <= set(
        listing["kinds"]
    )
    assert listing["letters"] == []
    drafted = await client.post(base, json={"kind": "documents_missing"}, headers=auth("alice"))
    assert drafted.status_code == 201, drafted.text
    letter = drafted.json()
    assert (letter["language"], letter["status"]) == ("nl", "draft")
    assert "Jan Janssens" in letter["body"] and event.request_id in letter["subject"]
    retried = await client.post(base, json={"kind": "documents_missing"}, headers=auth("alice"))
    assert retried.json()["id"] == letter["id"]  # one open draft per kind and language
    one = f"{base}/{letter['id']}"
    pdf_headers = {**auth("alice"), "Accept": "application/pdf"}
    assert (await client.get(one, headers=pdf_headers)).json()["error"] == "letter_not_validated"

    body = letter["body"].replace("[document 1]", "loonfiche van maart")
    edited = await client.put(
        one, json={"subject": "Uw aanvraag", "body": body}, headers=auth("bob")
    )
    assert edited.status_code == 200 and edited.json()["updated_by"] == "bob"
    validated = (await client.post(f"{one}/validate", headers=auth("alice"))).json()
    assert (validated["status"], validated["validated_by"]) == ("validated", "alice")
    again = await client.put(one, json={"subject": "x", "body": "y"}, headers=auth("alice"))
    assert again.status_code == 409 and again.json()["error"] == "letter_validated"

    pdf = await client.get(one, headers=pdf_headers)
    assert pdf.status_code == 200 and "loonfiche van maart" in pdf_text(pdf.content)
    history = (await client.get(f"/v1/items/{event.request_id}", headers=auth("lena"))).json()
    trail = [(h["event"], h["actor"]) for h in history["history"] if "letter" in h["event"]]
    assert trail == [
        ("letter_drafted", "alice"),
        ("letter_edited", "bob"),
        ("letter_validated", "alice"),
    ]
    assert all("body" not in h["details"] for h in history["history"])


async def test_letters_follow_the_queue_access_rules(
    client: httpx.AsyncClient, store: Store
) -> None:
    event = in_language("fr")
    await store(event)
    base = f"/v1/items/{event.request_id}/letters"
    assert (await client.get(base, headers=auth("carol"))).status_code == 404
    refused = await client.post(base, json={"kind": "forwarded"}, headers=auth("carol"))
    assert refused.status_code == 404  # another queue's item is reported like an unknown one
    unknown = await client.post(base, json={"kind": "nope"}, headers=auth("alice"))
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_letter"
    missing = await client.get(f"{base}/999", headers=auth("alice"))
    assert missing.status_code == 404
    empty = await client.post(
        f"/v1/items/{uuid.uuid4()}/letters", json={"kind": "forwarded"}, headers=auth("alice")
    )
    assert empty.status_code == 404


async def test_purge_and_erasure_delete_letters(
    client: httpx.AsyncClient, store: Store, pool: asyncpg.Pool
) -> None:
    kept, erased = in_language("fr"), in_language("en")
    await store(kept, erased)
    for event in (kept, erased):
        url = f"/v1/items/{event.request_id}/letters"
        assert (
            await client.post(url, json={"kind": "forwarded"}, headers=auth("alice"))
        ).is_success
    async with pool.acquire() as conn:
        await erase_requests(conn, [uuid.UUID(erased.request_id)])
        remaining = await conn.fetch("SELECT request_id FROM letters")
        assert [str(r["request_id"]) for r in remaining] == [kept.request_id]
        await conn.execute(
            "UPDATE work_items SET status = 'done', completed_at = now() - interval '400 days',"
            " claimed_by = NULL, lease_expires_at = NULL"
        )
        await purge(conn, datetime.now(BRUSSELS))
        assert await conn.fetchval("SELECT count(*) FROM letters") == 0
