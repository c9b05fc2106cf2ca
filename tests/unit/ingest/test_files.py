"""File attachments at ingest (claim-check: bytes to the store, references in the event)
and a reused external_id (issue 13 item 6): retry -> same request_id, reuse -> 409."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.auth import hash_secret
from shared.events import DOCUMENTS_TOPIC, RequestReceived, request_id_for
from testing import documents as d
from tests.fixtures.ledger import MemoryLedger
from tests.fixtures.samples import GOOD

KEY = {"Authorization": "Bearer demo-key"}
PDF = "application/pdf"


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[RequestReceived, str | None]] = []

    def encoded(self, event: RequestReceived) -> bytes:
        return b""  # no size limit here

    async def publish(
        self, event: RequestReceived, topic: str | None = None, *, payload: bytes | None = None
    ) -> None:
        self.published.append((event, topic))


def _client(max_file_bytes: int = 30_000) -> tuple[TestClient, Recorder, MemoryLedger]:
    settings = IngestSettings(
        ingest_api_keys={"demo": hash_secret("demo-key")},
        ingest_max_file_bytes=max_file_bytes,
        ingest_max_files_bytes=max(50_000, max_file_bytes),
        ingest_max_pdf_pages=2,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    recorder, ledger = Recorder(), MemoryLedger()
    app.state.ingest.publisher = recorder
    app.state.ingest.ledger = ledger
    return TestClient(app, raise_server_exceptions=False), recorder, ledger


def _file(name: str, content_type: str, data: bytes) -> dict[str, str]:
    return {"name": name, "content_type": content_type, "content_base64": d.b64(data)}


def _request(external_id: str, *files: dict[str, str], **change: Any) -> dict[str, Any]:
    return {**GOOD, "external_id": external_id, "attachments": list(files), **change}


def test_files_are_stored_and_referenced_never_carried() -> None:
    client, recorder, ledger = _client()
    pdf = d.text_pdf([d.FR_LETTER])
    body = _request(
        "with-files",
        {"name": "note", "text": "texte joint"},
        _file("lettre.pdf", PDF, pdf),
        _file("scan.png", "image/png", d.scan_image(["Bonjour"])),
    )
    response = client.post("/v1/requests", json=body, headers=KEY)
    assert response.status_code == 202, response.text
    ((event, topic),) = recorder.published
    assert topic == DOCUMENTS_TOPIC
    assert [a.text for a in event.attachments] == ["texte joint"]
    stored = ledger.files[event.request_id]
    assert [(r.name, r.content_type, r.size, r.sha256) for r in event.documents] == [
        (f.name, f.content_type, len(f.data), f.sha256) for f in stored
    ]
    assert stored[0].data == pdf and stored[1].content_type == "image/png"
    assert "content_base64" not in event.model_dump_json()


def test_a_plain_text_request_goes_straight_to_the_classifier() -> None:
    client, recorder, _ = _client()
    assert client.post("/v1/requests", json=_request("plain"), headers=KEY).status_code == 202
    assert recorder.published[0][1] is None  # the publisher's own topic: request.received


PNG = d.scan_image(["x"])
NOT_B64 = {"name": "a.pdf", "content_type": PDF, "content_base64": "%%%"}
CASES: dict[str, tuple[dict[str, str], int, str]] = {
    "type not accepted": (_file("a.zip", "application/zip", b"PK"), 415, "unsupported_type"),
    "PNG declared as PDF": (_file("a.pdf", PDF, PNG), 415, "type_mismatch"),
    "text declared as DOCX": (_file("a.docx", d.DOCX_TYPE, b"hello"), 415, "type_mismatch"),
    "binary declared as text": (_file("a.txt", "text/plain", b"\x00\xff"), 415, "type_mismatch"),
    "file too large": (_file("big.png", "image/png", PNG + b"\x00" * 40_000), 413, "too_large"),
    "too many pages": (_file("3.pdf", PDF, d.text_pdf([["a"]] * 3)), 422, "too_many_pages"),
    "not base64": (NOT_B64, 422, "validation_failed"),
    "empty file": (_file("a.pdf", PDF, b""), 422, "validation_failed"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_bad_file_gets_its_answer_naming_the_file(case: str) -> None:
    file, status, code = CASES[case]
    client, recorder, _ = _client()
    response = client.post("/v1/requests", json=_request("bad", file), headers=KEY)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert file["name"] in response.json()["message"] or code == "validation_failed"
    assert recorder.published == []


def test_files_over_the_request_total() -> None:
    client, _, _ = _client()
    big = _file("b.png", "image/png", PNG + b"\x00" * 25_000)
    response = client.post("/v1/requests", json=_request("total", big, big), headers=KEY)
    assert response.status_code == 413 and "total" in response.json()["message"]


def test_damaged_pdf_is_accepted_for_an_unreadable_item() -> None:
    client, _, _ = _client()
    for i, data in enumerate((d.encrypted_pdf(), d.corrupt_pdf())):
        body = _request(f"damaged-{i}", _file("x.pdf", PDF, data))
        assert client.post("/v1/requests", json=body, headers=KEY).status_code == 202


def test_reused_external_id_same_content_same_id_other_content_409() -> None:
    client, _, _ = _client()
    files = [_file("lettre.pdf", PDF, d.text_pdf([d.FR_LETTER]))]
    first = client.post("/v1/requests", json=_request("reuse", *files), headers=KEY)
    retry = client.post("/v1/requests", json=_request("reuse", *files), headers=KEY)
    assert first.status_code == retry.status_code == 202
    assert (
        first.json()["request_id"] == retry.json()["request_id"] == request_id_for("demo", "reuse")
    )
    changes: list[dict[str, Any]] = [{"body": "Autre."}, {"attachments": []}, {"subject": "x"}]
    for change in changes:
        other = client.post(
            "/v1/requests", json={**_request("reuse", *files), **change}, headers=KEY
        )
        assert other.status_code == 409, change
        assert other.json()["error"] == "external_id_conflict"
        assert (
            "'reuse'" in other.json()["message"] and "different content" in other.json()["message"]
        )


def test_batch_items_are_checked_each() -> None:
    client, _, _ = _client()
    client.post("/v1/requests", json=_request("b-1"), headers=KEY)
    batch = {"requests": [_request("b-1"), _request("b-1", body="Autre."), _request("b-2")]}
    response = client.post("/v1/requests:batch", content=json.dumps(batch), headers=KEY)
    assert [r["status"] for r in response.json()["results"]] == [202, 409, 202]


def test_no_database_yet_is_503() -> None:
    client, _, _ = _client()
    client.app.state.ingest.ledger = None  # type: ignore[attr-defined]
    response = client.post("/v1/requests", json=_request("early"), headers=KEY)
    assert response.status_code == 503 and response.json()["error"] == "database_unavailable"


def test_large_bodies_are_parsed_off_the_event_loop_with_the_same_answers() -> None:
    client, recorder, ledger = _client(max_file_bytes=1_000_000)
    big = PNG + b"\x00" * 400_000  # base64: over OFF_LOOP_BYTES
    ok = client.post(
        "/v1/requests", json=_request("big", _file("big.png", "image/png", big)), headers=KEY
    )
    assert ok.status_code == 202, ok.text
    assert ledger.files[recorder.published[0][0].request_id][0].data == big
    bad = client.post("/v1/requests", json=_request("big-2", _file("b.pdf", PDF, big)), headers=KEY)
    assert bad.status_code == 415
    batch = {"requests": [_request("big-3", _file("big.png", "image/png", big)), {"x": 1}]}
    answer = client.post("/v1/requests:batch", json=batch, headers=KEY)
    assert [r["status"] for r in answer.json()["results"]] == [202, 422]
