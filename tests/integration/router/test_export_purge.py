"""Corrections become training data; old completed items lose their personal data."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.classifier.training.data import load_cases
from services.router.db import init_connection
from services.router.export import export
from services.router.export import main as export_main
from services.router.purge import cutoff_for, purge
from services.router.purge import main as purge_main
from services.router.workflow import Workflow
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, person

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def _work(workflow: Workflow, store: Store) -> tuple[str, str, str]:
    """Three items: one completed as classified, one corrected then completed, one open."""
    plain = classified("food_aid", "normal", body="Voedselpakket graag, mail jan@example.be")
    fixed = classified("energy_aid", "low", body="Mon compteur est coupé, IBAN BE68 5390 0754 7034")
    still_open = classified("housing", "high")
    await store(plain, fixed, still_open)
    lena = person("lena")
    for queue in ("food_aid", "energy_aid"):
        await workflow.claim(lena, queue)
    await workflow.complete(lena, plain.request_id)
    await workflow.correct(lena, fixed.request_id, None, "critical", "gas cut")
    await workflow.complete(lena, fixed.request_id)
    return plain.request_id, fixed.request_id, still_open.request_id


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


async def test_export_writes_final_labels_with_masked_text(
    workflow: Workflow, store: Store, migrated_url: str, tmp_path: Path
) -> None:
    plain, fixed, _ = await _work(workflow, store)
    out = tmp_path / "cases.csv"
    conn = await connect(migrated_url)
    try:
        assert await export(conn, TODAY, out) == 2
        assert await export(conn, TODAY + timedelta(days=1), tmp_path / "none.csv") == 0
    finally:
        await conn.close()
    rows = {r["id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {plain, fixed}
    assert (rows[plain]["type"], rows[plain]["urgency"], rows[plain]["corrected"]) == (
        "food_aid",
        "normal",
        "false",
    )
    assert (rows[fixed]["type"], rows[fixed]["urgency"], rows[fixed]["corrected"]) == (
        "energy_aid",
        "critical",
        "true",
    )
    text = out.read_text(encoding="utf-8")
    assert "jan@example.be" not in text and "BE68" not in text and "[EMAIL]" in text
    cases = load_cases(out, min_examples=None)  # the `triage train` format
    assert sorted(cases.types) == ["energy_aid", "food_aid"] and cases.urgencies is not None


async def test_purge_removes_text_but_keeps_statistics_and_audit(
    workflow: Workflow, store: Store, migrated_url: str, tmp_path: Path
) -> None:
    plain, fixed, still_open = await _work(workflow, store)
    conn = await connect(migrated_url)
    try:
        await conn.execute(
            "UPDATE work_items SET completed_at = now() - interval '400 days'"
            " WHERE request_id = $1",
            uuid.UUID(plain),
        )
        audit_before = await conn.fetchval("SELECT count(*) FROM audit_events")
        result = await purge(conn, cutoff_for(365), batch=1)
        assert result.items == 1
        rows = {str(r["request_id"]): r for r in await conn.fetch("SELECT * FROM work_items")}
        old = rows[plain]
        assert old["body"] is None and old["subject"] is None and old["metadata"] is None
        assert old["purged_at"] is not None and old["type"] == "food_aid"
        assert "snippet" not in old["classification"]["explanation"]["cues"][0]
        assert old["classification"]["explanation"]["cues"][0]["cue"] == "energy_cutoff"
        assert rows[fixed]["body"] and rows[still_open]["body"]  # recent or open: kept
        events = await conn.fetch(
            "SELECT event FROM audit_events WHERE request_id = $1 ORDER BY id", uuid.UUID(plain)
        )
        assert [e["event"] for e in events][-1] == "purged"
        assert await conn.fetchval("SELECT count(*) FROM audit_events") == audit_before + 1
        assert (await purge(conn, cutoff_for(365))).items == 0  # idempotent
        assert await export(conn, TODAY - timedelta(days=500), tmp_path / "c.csv") == 1
    finally:
        await conn.close()


def test_cli_commands(
    migrated_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", migrated_url)
    out = tmp_path / "cases.csv"
    assert export_main(["--since", TODAY.date().isoformat(), "--out", str(out)]) == 0
    assert out.read_text().startswith("id,text,type,urgency,language")
    assert purge_main(["--older-than", "30", "--dry-run"]) == 0
    assert purge_main(["--older-than", "30"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 0 case(s)" in printed and "would purge 0 item(s)" in printed
    assert "0 request(s) never routed" in printed
    with pytest.raises(SystemExit):
        export_main(["--since", "yesterday", "--out", str(out)])


async def test_purge_erases_requests_that_were_never_routed(migrated_url: str) -> None:
    """A request ingest accepted but no work item ever came of (dead-lettered, never
    replayed) keeps its ledger row and stored file only until the retention period."""
    old, recent = uuid.uuid4(), uuid.uuid4()
    conn = await connect(migrated_url)
    try:
        for request_id, age in ((old, 400), (recent, 1)):
            accepted = datetime.now(UTC) - timedelta(days=age)
            await conn.execute(
                "INSERT INTO intake_requests (request_id, source, external_id, content_sha256,"
                " accepted_at) VALUES ($1, 'demo', $2, 'x', $3)",
                request_id,
                f"jan.peeters-{age}",
                accepted,
            )
            await conn.execute(
                "INSERT INTO documents (document_id, request_id, position, name, content_type,"
                " size, sha256, content, stored_at) VALUES ($1, $2, 0, 'brief.pdf',"
                " 'application/pdf', 3, 'x', '\\x010203', $3)",
                uuid.uuid4(),
                request_id,
                accepted,
            )
        result = await purge(conn, cutoff_for(365), batch=1)
        assert result.unrouted == 1
        for table in ("intake_requests", "documents"):
            left = await conn.fetch(f"SELECT request_id FROM {table}")
            assert [r["request_id"] for r in left] == [recent]
        assert (await purge(conn, cutoff_for(365))).unrouted == 0  # idempotent
    finally:
        await conn.close()
