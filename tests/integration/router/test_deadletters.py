"""Dead letters recorded by the router: the ``failed`` status (issue 13, item 7)."""

from __future__ import annotations

from types import SimpleNamespace

import asyncpg
import httpx

from services.router.deadletters import DeadLetterRecorder, load_deadletter_queries
from shared.events import CLASSIFIED_V1, DeadLetter, deadletter_payload, encode
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, source_auth


def _letter(raw: bytes, key: str | None, reason: str = "processing") -> DeadLetter:
    payload, encoding = deadletter_payload(raw)
    return DeadLetter(
        stage="router", reason=reason, error="ValueError: something with a name in it",
        attempts=3, original_topic=CLASSIFIED_V1, original_partition=0, original_offset=7,
        original_key=key, payload=payload, payload_encoding=encoding,
    )  # fmt: skip


def _records(*letters: DeadLetter) -> list[SimpleNamespace]:
    return [SimpleNamespace(value=encode(letter)) for letter in letters]


async def test_a_dead_lettered_request_reports_failed_with_its_reason_only(
    pool: asyncpg.Pool, client: httpx.AsyncClient, store: Store
) -> None:
    event = classified(source="demo")
    letter = _letter(encode(event), event.request_id)
    recorder = DeadLetterRecorder(pool, load_deadletter_queries())
    await recorder.handle(_records(letter))
    await recorder.handle(_records(letter, letter))  # redelivered: recorded once
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 1

    url = f"/v1/requests/{event.request_id}"
    status = await client.get(url, headers=source_auth("demo"))
    assert status.status_code == 200, status.text
    body = status.json()
    assert (body["status"], body["reason"]) == ("failed", "processing")
    assert "something" not in status.text  # the code, never the error text
    assert (await client.get(url, headers=source_auth("other"))).status_code == 404

    await store(event)  # replayed after a fix: the work item's status wins
    assert (await client.get(url, headers=source_auth("demo"))).json()["status"] == "queued"


async def test_a_letter_whose_payload_is_not_json_is_found_by_its_key(
    pool: asyncpg.Pool,
) -> None:
    event = classified(source="demo")
    recorder = DeadLetterRecorder(pool, load_deadletter_queries())
    await recorder.handle(_records(_letter(b"\xff\x00 not json", event.request_id, "schema")))
    await recorder.handle([SimpleNamespace(value=b"not a letter")])  # skipped, not fatal
    row = await pool.fetchrow("SELECT request_id, source, reason FROM dead_letters")
    assert (str(row["request_id"]), row["source"], row["reason"]) == (
        event.request_id, None, "schema",
    )  # fmt: skip
