"""The claim-check store and the intake ledger on the real PostgreSQL: files stored
once with their references, a retry recognised, a reuse refused — also when the
same external_id arrives twice at once; one named delete per table for purge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.router.erase import erase_requests
from shared.db import create_pool
from shared.documents.store import DocumentStore, File
from shared.events import DocumentStatus, request_id_for
from testing import documents as d


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[DocumentStore]:
    pool = await create_pool(migrated_url, min_size=1, max_size=8)
    try:
        yield DocumentStore(pool)
    finally:
        await pool.close()


async def test_files_stored_once_and_listed_without_bytes(store: DocumentStore) -> None:
    rid = request_id_for("demo", "files-1")
    files = [
        File("lettre.pdf", d.PDF_TYPE, d.text_pdf([d.FR_LETTER])),
        File("n.txt", "text/plain", b"hi"),
    ]
    for _ in range(2):  # a retry stores nothing twice
        assert await store.record(rid, "demo", "files-1", "h1", files) == "h1"
    stored = await store.request_documents(rid)
    assert [(s.name, s.data) for s in stored] == [(f.name, f.data) for f in files]
    listing = await store.listing(rid)
    assert [row["document_id"] for row in listing] == [
        f.ref(rid, i).document_id for i, f in enumerate(files)
    ]
    assert "content" not in listing[0] and listing[0]["status"] == "pending"
    ref = (
        files[0]
        .ref(rid, 0)
        .model_copy(update={"status": DocumentStatus.unreadable, "problem": "corrupt"})
    )
    await store.mark([ref])
    assert (await store.listing(rid))[0]["problem"] == "corrupt"
    got = await store.get(rid, ref.document_id)
    assert got is not None and got.data == files[0].data
    assert await store.get(rid, str(uuid.uuid4())) is None


async def test_reuse_is_seen_even_when_both_arrive_at_once(store: DocumentStore) -> None:
    rid = request_id_for("demo", "race")
    answers = await asyncio.gather(
        *(store.record(rid, "demo", "race", f"h{i % 2}", []) for i in range(10))
    )
    assert len(set(answers)) == 1  # every caller is told the one recorded hash
    assert await store.record(rid, "demo", "race", answers[0], []) == answers[0]


async def test_purge_and_erasure_delete_a_requests_originals(store: DocumentStore) -> None:
    rid = request_id_for("demo", "purge-1")
    await store.record(rid, "demo", "purge-1", "h", [File("a.txt", "text/plain", b"x")])
    async with store.pool.acquire() as conn:
        await erase_requests(conn, [uuid.UUID(rid)])  # what purge and erasure run
        left = await conn.fetchval(
            "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM intake_requests)"
        )
    assert left == 0
    assert isinstance(store.pool, asyncpg.Pool)
