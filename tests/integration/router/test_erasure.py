"""Erasure (GDPR art. 17) and retention on a real PostgreSQL: afterwards no row of any
table holds the person's name or identifiers, whatever tables exist by then (every
text and jsonb column is scanned from information_schema), and the audit trail keeps
its rows as tombstones."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.router.consumer import ClassifiedWriter
from services.router.db import create_pool, load_queries
from services.router.erase import erase_requests, find_requests, normalise
from services.router.erase import main as erase_main
from services.router.metrics import RouterMetrics
from services.router.migrate import discover, migrate
from services.router.purge import cutoff_for, purge
from services.router.rules import Routing
from services.router.workflow import Workflow
from shared.consumer import Consumed
from shared.events import Attachment, CueHit, RequestClassified, Urgency
from shared.metrics import new_registry
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, person
from tests.integration.router.test_export_purge import connect

NAME = "Peeters"
# What must be gone: the name and every written form of the identifiers.
TRACES = [NAME, "85.07.30-033.28", "85073003328", "jan.peeters@example.be", "BE68 5390"]


def about_jan(
    external_id: str, body: str, urgency: str = "high", **fields: Any
) -> RequestClassified:
    event = classified("energy_aid", urgency, external_id=external_id, body=body, **fields)
    explanation = event.classification.explanation.model_copy(
        update={"cues": [CueHit(cue="energy_cutoff", level=Urgency.high, snippet=f"{NAME} zegt")]}
    )
    classification = event.classification.model_copy(update={"explanation": explanation})
    return event.model_copy(update={"classification": classification})


async def columns(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
    )
    return [(r["table_name"], r["column_name"]) for r in rows]


async def where_found(conn: asyncpg.Connection, needles: list[str]) -> list[str]:
    """Every table.column where one of ``needles`` still appears (any table, any row)."""
    patterns = [f"%{n}%" for n in needles]
    found = []
    for table, column in await columns(conn):
        sql = f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE ANY($1::text[])'
        if await conn.fetchval(sql, patterns):
            found.append(f"{table}.{column}")
    return found


async def _janssens_file(workflow: Workflow, store: Store) -> tuple[str, str, str]:
    """Two requests about Jan (worked on, with reasons naming him) and one about Marie."""
    first = about_jan(
        f"dossier-{NAME}-85073003328",
        f"Ik ben Jan {NAME}, NISS 85.07.30-033.28, mail jan.peeters@example.be",
        attachments=[Attachment(name="brief.txt", text=f"{NAME}: IBAN BE68 5390 0754 7034")],
        metadata={"contact": f"Jan {NAME}"},
    )
    second = about_jan(uuid.uuid4().hex, f"Nogmaals {NAME}, rijksregister 85073003328", "low")
    other = classified("housing", "high", body="Marie Dupont, NISS 90.02.01-997.04")
    await store(first, second, other)
    lena = person("lena")
    await workflow.claim(lena, "energy_aid")
    await workflow.correct(lena, first.request_id, None, "critical", f"{NAME} called, no heating")
    await workflow.reassign(lena, first.request_id, "review", f"{NAME} is also a tenant")
    return first.request_id, second.request_id, other.request_id


Files = tuple[asyncpg.Connection, tuple[str, str, str]]


@pytest.fixture
async def files(workflow: Workflow, store: Store, migrated_url: str) -> AsyncIterator[Files]:
    """A connection, and the ids of Jan's two requests and Marie's one."""
    ids = await _janssens_file(workflow, store)
    conn = await connect(migrated_url)
    try:
        yield conn, ids
    finally:
        await conn.close()


async def test_erasure_by_national_number_leaves_no_trace(files: Files) -> None:
    conn, (first, second, other) = files
    assert sorted(await where_found(conn, TRACES)) == [  # the test data is really there
        "audit_events.details",
        "corrections.reason",
        "work_items.attachments",
        "work_items.body",
        "work_items.classification",
        "work_items.external_id",
        "work_items.metadata",
    ]
    audit_before = await conn.fetchval("SELECT count(*) FROM audit_events")
    found = await find_requests(conn, "niss", normalise("niss", "850730 033 28"))
    assert sorted(map(str, found)) == sorted([first, second])
    assert await erase_requests(conn, found) == 2
    assert await where_found(conn, TRACES) == []
    assert await where_found(conn, ["Marie Dupont"]) == ["work_items.body"]  # not hers
    # Tombstones: every audit row is still there, plus one 'erased' event each.
    assert await conn.fetchval("SELECT count(*) FROM audit_events") == audit_before + 2
    events = await conn.fetch(
        "SELECT event, actor FROM audit_events WHERE request_id = $1 ORDER BY id",
        uuid.UUID(first),
    )
    assert [e["event"] for e in events] == [
        "routed", "claimed", "corrected", "reassigned", "erased"
    ]  # fmt: skip
    item = await conn.fetchrow("SELECT * FROM work_items WHERE request_id = $1", uuid.UUID(first))
    assert (item["type"], item["urgency"], item["queue"]) == (
        "energy_aid",
        "critical",
        "review",
    )
    assert await find_requests(conn, "niss", "85073003328") == []  # idempotent
    assert await erase_requests(conn, [uuid.UUID(other)], details={"by": "request"}) == 1
    assert await where_found(conn, ["Marie Dupont", "90.02.01"]) == []


@pytest.mark.parametrize(
    ("kind", "value"), [("email", "Jan.Peeters@example.be"), ("iban", "be68-5390-0754-7034")]
)
async def test_erasure_by_email_or_iban_finds_that_person_only(
    files: Files, kind: str, value: str
) -> None:
    conn, (first, _second, _other) = files
    found = await find_requests(conn, kind, normalise(kind, value))  # type: ignore[arg-type]
    assert [str(f) for f in found] == [first]


async def test_the_audit_trail_allows_erasing_a_reason_and_nothing_else(files: Files) -> None:
    conn, (first, _, _) = files
    for sql in (
        "UPDATE audit_events SET actor = 'x'",
        "UPDATE audit_events SET details = '{}'::jsonb",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE corrections SET reason = 'rewritten'",
        "UPDATE corrections SET reason = NULL, actor = 'x'",
        "DELETE FROM corrections",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(sql)
    await erase_requests(conn, [uuid.UUID(first)])


async def test_purge_covers_abandoned_items_reasons_and_external_ids(files: Files) -> None:
    conn, (first, second, _other) = files
    old = datetime.now(UTC) - timedelta(days=400)
    await conn.execute(  # Jan's requests: one in review, one never even claimed
        "UPDATE work_items SET queued_at = $2 WHERE request_id = ANY($1::uuid[])",
        [uuid.UUID(first), uuid.UUID(second)],
        old,
    )
    result = await purge(conn, cutoff_for(365), batch=1)
    assert result.items == 2
    assert await where_found(conn, TRACES) == []
    assert await where_found(conn, ["Marie Dupont"]) == ["work_items.body"]  # recent
    assert (await purge(conn, cutoff_for(365))).items == 0


def test_erase_command(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", migrated_url)
    assert erase_main(["--niss", "85.07.30-033.28", "--dry-run"]) == 0
    assert erase_main(["--request", str(uuid.uuid4())]) == 0
    printed = capsys.readouterr().out
    assert "would erase" in printed and "erased 0 request(s)" in printed
    with pytest.raises(SystemExit):
        erase_main(["--niss", "85.07.30-033.29"])  # wrong check digits: refused


async def test_the_migration_erases_what_the_old_purge_kept(
    database_url: str, routing: Routing
) -> None:
    """Items purged before 0002 kept reasons and external ids: the migration erases them."""
    first = discover()[0]
    conn = await connect(database_url)
    try:
        await migrate(conn, [first])
        pool = await create_pool(database_url)
        try:
            writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(new_registry()))
            event = about_jan(f"dossier-{NAME}", "text")
            await writer([Consumed(event, "t", 0, 0, None)])
        finally:
            await pool.close()
        rid = uuid.UUID(event.request_id)
        await conn.execute(
            "INSERT INTO corrections (request_id, actor, model_version, before_type, after_type,"
            " before_urgency, after_urgency, before_queue, after_queue, reason)"
            " VALUES ($1, 'lena', 'm', 't', 't', 'low', 'high', 'q', 'q', $2)",
            rid,
            f"{NAME} called",
        )
        await conn.execute(
            "INSERT INTO audit_events (request_id, event, actor, queue, details)"
            " VALUES ($1, 'reassigned', 'lena', 'q', $2)",
            rid,
            {"from": "q", "to": "review", "reason": f"{NAME} again"},
        )
        await conn.execute(  # what the old purge did
            "UPDATE work_items SET subject = NULL, body = NULL, attachments = NULL,"
            " metadata = NULL, classification = '{}'::jsonb, purged_at = now()"
            " WHERE request_id = $1",
            rid,
        )
        assert await where_found(conn, [NAME])
        await migrate(conn)  # 0002 on top of the applied 0001
        assert await where_found(conn, [NAME]) == []
    finally:
        await conn.close()
