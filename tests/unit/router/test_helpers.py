"""Pure helpers of the router: cursors, summaries, statuses, batch rows, export rows,
gauges, settings, the benchmark's docs section."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from benchmarks.e2e.report import update_docs
from benchmarks.queue.report import SECTION
from services.router.consumer import batch_columns
from services.router.export import case_row, case_text
from services.router.metrics import RouterMetrics
from services.router.paging import decode_cursor, encode_cursor, page
from services.router.rules import load_rules
from services.router.schemas import CorrectBody, ReassignBody
from services.router.settings import DEFAULT_RULES, RouterSettings
from services.router.views import status_of, summarise_queues
from shared.errors import Invalid
from tests.fixtures.factories import classified

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_cursor_round_trip_and_garbage() -> None:
    rid = uuid.uuid4()
    cursor = encode_cursor(2, NOW, rid)
    assert decode_cursor(cursor) == (2, NOW, rid)
    for bad in ("", "not-base64!", encode_cursor(2, NOW, rid)[:-3], "W10"):
        with pytest.raises(Invalid, match="invalid 'after' cursor"):
            decode_cursor(bad)


def _crafted(doc: object) -> str:
    raw = doc if isinstance(doc, str) else json.dumps(doc)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(_crafted([10**6, NOW.isoformat(), str(uuid.uuid4())]), id="priority-overflow"),
        pytest.param(_crafted([1e400, NOW.isoformat(), str(uuid.uuid4())]), id="priority-inf"),
        pytest.param(_crafted([1.5, NOW.isoformat(), str(uuid.uuid4())]), id="priority-float"),
        pytest.param(_crafted([True, NOW.isoformat(), str(uuid.uuid4())]), id="priority-bool"),
        pytest.param(_crafted([1, "2026-01-01T00:00:00", str(uuid.uuid4())]), id="naive-date"),
        pytest.param(_crafted([1, "2026-01-01\u0000", str(uuid.uuid4())]), id="nul-in-date"),
        pytest.param(_crafted({"a": 1, "b": 2, "c": 3}), id="object"),
        pytest.param(_crafted("[" * 5000 + "]" * 5000), id="deep-nesting"),
        pytest.param(_crafted('[1, "2026-01-01T00:00:00+00:00", "\\udc80"]'), id="surrogate"),
        pytest.param("A" * 10_000, id="huge"),
        pytest.param("\x00", id="nul"),
    ],
)
def test_crafted_cursors_are_422(cursor: str) -> None:
    with pytest.raises(Invalid, match="invalid 'after' cursor"):
        decode_cursor(cursor)


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "x\x1b[31m", "\ud800", "\x7f"])
def test_reasons_and_names_with_control_characters_are_refused(text: str) -> None:
    for body in (
        {"queue": "housing", "reason": text},
        {"queue": text},
        {"type": "housing", "reason": text},
        {"type": text},
    ):
        model = ReassignBody if "queue" in body else CorrectBody
        with pytest.raises(ValidationError, match=r"control characters|unicode string"):
            model.model_validate(body)


def test_tabs_and_line_breaks_stay_accepted_in_a_reason() -> None:
    assert ReassignBody(queue="housing", reason="a\tb\r\nc").reason == "a\tb\r\nc"


def test_page_gives_a_cursor_only_when_more_rows_exist() -> None:
    rows = [{"priority": 1, "due_at": NOW, "request_id": uuid.uuid4()} for _ in range(3)]
    assert page(rows, 3) == (rows, None)
    items, cursor = page(rows, 2)
    assert items == rows[:2]
    assert cursor is not None and decode_cursor(cursor)[2] == rows[1]["request_id"]


def stat(
    queue: str,
    status: str,
    priority: int,
    items: int,
    past_due: int = 0,
    oldest: datetime | None = None,
) -> dict[str, object]:
    return {
        "queue": queue,
        "status": status,
        "priority": priority,
        "items": items,
        "past_due": past_due,
        "oldest_received_at": oldest,
    }


def test_summarise_queues_counts_by_priority_and_status() -> None:
    stats = [
        stat("housing", "claimed", 1, 1),
        stat("housing", "waiting", 1, 2, past_due=1, oldest=NOW - timedelta(hours=2)),
        stat("housing", "waiting", 3, 5, oldest=NOW - timedelta(hours=5)),
        stat("secret", "waiting", 1, 9),
    ]
    out = summarise_queues(stats, ["food_aid", "housing"], NOW)
    assert out[0] == {
        "queue": "food_aid",
        "waiting": 0,
        "claimed": 0,
        "past_due": 0,
        "oldest_waiting_age_s": None,
        "by_priority": {},
    }
    housing = out[1]
    assert (housing["waiting"], housing["claimed"], housing["past_due"]) == (7, 1, 1)
    assert housing["oldest_waiting_age_s"] == 5 * 3600
    assert housing["by_priority"] == {
        "1": {"waiting": 2, "claimed": 1},
        "3": {"waiting": 5, "claimed": 0},
    }


def status_row(status: str, lease: datetime | None = None) -> dict[str, object]:
    return {
        "request_id": uuid.uuid4(),
        "status": status,
        "lease_expires_at": lease,
        "received_at": NOW,
        "updated_at": NOW,
        "queue": "housing",
        "priority": 2,
        "due_at": NOW,
        "completed_at": NOW if status == "done" else None,
    }


def test_status_for_intake_systems() -> None:
    assert status_of(status_row("waiting"), NOW)["status"] == "queued"
    working = status_of(status_row("claimed", NOW + timedelta(minutes=5)), NOW)
    assert working["status"] == "in_progress" and working["queue"] == "housing"
    # an expired lease: the item is claimable again, so it is queued
    assert status_of(status_row("claimed", NOW - timedelta(minutes=5)), NOW)["status"] == ("queued")
    done = status_of(status_row("done"), NOW)
    assert done["status"] == "done" and "queue" not in done and done["completed_at"] == NOW


def test_batch_columns_route_dedupe_and_keep_text_out_of_the_audit() -> None:
    routing = load_rules(DEFAULT_RULES)
    first = classified("housing", "high", body="Body with a NUL\x00 byte")
    review = classified("energy_aid", "low", needs_review=True)
    columns = batch_columns([first, review, first], routing)
    assert columns[0] == [first.request_id, review.request_id]  # the duplicate is dropped
    assert columns[7][0] == "Body with a NUL\ufffd byte"
    assert columns[17] == ["housing", "review"] and columns[18] == [2, 4]
    details = json.loads(columns[20][0])
    assert details["model_version"] == "test-1" and details["top_types"][0]["label"] == "housing"
    assert "NUL" not in columns[20][0] and "Afsluiting" not in columns[20][0]


def test_export_row_masks_the_text_and_keeps_the_final_labels() -> None:
    attachments = [{"name": "a.txt", "text": "IBAN BE68 5390 0754 7034"}]
    assert (
        case_text("Subject", "Body", attachments) == "Subject\n\nBody\n\nIBAN BE68 5390 0754 7034"
    )
    row = case_row(
        {
            "request_id": uuid.UUID(int=1),
            "subject": "Hulp",
            "body": "Mail me: jan@example.be",
            "attachments": attachments,
            "type": "debt_mediation",
            "urgency": "high",
            "language": "nl",
            "corrected": True,
            "model_version": "m1",
            "completed_at": NOW,
        }
    )
    assert "jan@example.be" not in row["text"] and "BE68" not in row["text"]
    assert row["text"].startswith("Hulp\n\nMail me:")
    assert (row["type"], row["urgency"], row["corrected"]) == ("debt_mediation", "high", "true")


def test_queue_gauges_go_to_zero_when_a_series_disappears() -> None:
    registry = CollectorRegistry()
    metrics = RouterMetrics(registry)
    metrics.update_queues(
        [stat("housing", "waiting", 1, 3, past_due=2, oldest=NOW - timedelta(seconds=90))], NOW
    )
    labels = {"queue": "housing", "priority": "1"}
    value = registry.get_sample_value
    assert value("triage_router_queue_depth_items", {**labels, "status": "waiting"}) == 3
    assert value("triage_router_queue_oldest_waiting_age_seconds", labels) == 90
    assert value("triage_router_items_past_due", labels) == 2
    metrics.update_queues([], NOW)
    assert value("triage_router_queue_depth_items", {**labels, "status": "waiting"}) == 0
    assert value("triage_router_items_past_due", labels) == 0


def test_settings_read_the_shared_ingest_keys_and_users_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed = "sha256:" + "ab" * 32  # a well-formed hash: the settings refuse any other
    monkeypatch.setenv("TRIAGE_INGEST_API_KEYS", json.dumps({"demo": hashed}))
    monkeypatch.setenv("TRIAGE_ROUTER_USERS", '{"lena": {"queues": ["*"], "role": "lead"}}')
    monkeypatch.setenv("TRIAGE_ROUTER_TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("TRIAGE_PORT", "9100")
    settings = RouterSettings()  # type: ignore[call-arg]
    assert settings.ingest_api_keys == {"demo": hashed}
    assert settings.router_users["lena"]["role"] == "lead"
    assert settings.router_trusted_proxies == ["10.0.0.0/8"]
    assert settings.port == 9100 and settings.router_rules == DEFAULT_RULES


def test_docs_section_is_replaced_without_touching_other_sections(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Classifier\n\ntext\n")
    update_docs(docs, f"{SECTION}\n\nfirst\n", SECTION)
    update_docs(docs, f"{SECTION}\n\nsecond\n", SECTION)
    assert docs.read_text() == f"# Benchmarks\n\n## Classifier\n\ntext\n\n{SECTION}\n\nsecond\n"
    docs.write_text(f"# B\n\n{SECTION}\n\nold\n\n## Later\n\nkeep\n")
    update_docs(docs, f"{SECTION}\n\nnew\n", SECTION)
    assert docs.read_text() == f"# B\n\n{SECTION}\n\nnew\n\n## Later\n\nkeep\n"
