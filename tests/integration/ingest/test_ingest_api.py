"""The ingest service as a real process against the real tansu broker."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.auth import hash_secret
from shared.events import RECEIVED_V1, RequestReceived, request_id_for
from stack import procs
from stack.tansu import TansuBroker
from tests.fixtures.services import read_topic, service_process
from tests.fixtures.stack import Topics

KEYS = {"demo": hash_secret("demo-key"), "other": hash_secret("other-key")}
AUTH = {"Authorization": "Bearer demo-key"}


def _env(bootstrap: str, topics: Topics, database_url: str = "", **extra: str) -> dict[str, str]:
    return {
        "TRIAGE_KAFKA_BOOTSTRAP": bootstrap,
        "TRIAGE_DATABASE_URL": database_url or "postgresql://nobody@127.0.0.1:1/none",
        "TRIAGE_INGEST_API_KEYS": json.dumps(KEYS),
        "TRIAGE_INGEST_MAX_TEXT_CHARS": "5000",
        **topics.env(),
        **extra,
    }


@pytest.fixture
def ingest_url(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, migrated_url: str
) -> Iterator[str]:
    with service_process("ingest", _env(kafka_bootstrap, topics, migrated_url), tmp_path) as url:
        yield url


def _request(external_id: str, **extra: object) -> dict[str, object]:
    return {"source": "demo", "external_id": external_id, "channel": "web",
            "subject": "Aide", "body": "Bonjour, j'ai besoin d'aide.", **extra}  # fmt: skip


async def test_accepted_requests_are_exactly_the_events_on_the_topic(
    ingest_url: str, kafka_bootstrap: str, topics: Topics
) -> None:
    async with httpx.AsyncClient(base_url=ingest_url, headers=AUTH) as client:
        accepted = []
        for i in range(20):
            resp = await client.post("/v1/requests", json=_request(f"ok-{i}"))
            assert resp.status_code == 202, resp.text
            accepted.append(resp.json()["request_id"])
        retry = await client.post("/v1/requests", json=_request("ok-0"))
        assert retry.status_code == 202
        assert retry.json()["request_id"] == accepted[0] == request_id_for("demo", "ok-0")
        bad_inputs = [
            (b'{"source": ', 400, "malformed_json"),
            (
                b'{"source":"demo","external_id":"x","channel":"web","body":"\xff"}',
                400,
                "invalid_utf8",
            ),
            (json.dumps(_request("bad-1", body="  ")).encode(), 422, "validation_failed"),
            (json.dumps(_request("bad-2", surprise=1)).encode(), 422, "validation_failed"),
            (json.dumps(_request("bad-3", body="x" * 6000)).encode(), 413, "too_large"),
            (json.dumps(_request("bad-4", source="other")).encode(), 403, "forbidden"),
        ]
        for body, status, code in bad_inputs:
            resp = await client.post("/v1/requests", content=body)
            assert resp.status_code == status, resp.text
            assert resp.json()["error"] == code
            assert resp.json()["message"]
        resp = await client.post(
            "/v1/requests", json=_request("bad-5"), headers={"Authorization": "Bearer nope"}
        )
        assert resp.status_code == 401
        resp = await client.post(
            "/v1/requests", json=_request("bad-6"), headers={"Authorization": ""}
        )
        assert resp.status_code == 401
    records = await read_topic(kafka_bootstrap, topics.received, at_least=21)
    events = [RequestReceived.model_validate_json(r.value) for r in records]
    # 20 accepted + 1 retry of the same id; nothing for the refused ones.
    assert len(events) == 21
    assert sorted({e.request_id for e in events}) == sorted(accepted)
    assert all(r.key == e.request_id.encode() for r, e in zip(records, events, strict=True))
    assert all(dict(r.headers)["triage-event-type"] == RECEIVED_V1.encode() for r in records)
    print(f"sent=29 accepted=21 on_topic={len(events)} refused=8")


async def test_batch_reports_each_item(
    ingest_url: str, kafka_bootstrap: str, topics: Topics
) -> None:
    items = [
        _request("b-1"),
        _request("b-2", channel="fax"),
        _request("b-3", source="other"),
        _request("b-4"),
    ]
    async with httpx.AsyncClient(base_url=ingest_url, headers=AUTH) as client:
        resp = await client.post("/v1/requests:batch", json={"requests": items})
        assert resp.status_code == 200, resp.text
        out = resp.json()
        too_many = await client.post("/v1/requests:batch", json={"requests": [_request("z")] * 501})
    assert (out["accepted"], out["rejected"]) == (2, 2)
    assert [r["status"] for r in out["results"]] == [202, 422, 403, 202]
    assert out["results"][1]["error"]["details"][0]["field"] == "channel"
    assert too_many.status_code == 413
    records = await read_topic(kafka_bootstrap, topics.received, at_least=2)
    assert {RequestReceived.model_validate_json(r.value).external_id for r in records} == {
        "b-1",
        "b-4",
    }


async def test_metrics_and_openapi(ingest_url: str) -> None:
    async with httpx.AsyncClient(base_url=ingest_url, headers=AUTH) as client:
        await client.post("/v1/requests", json=_request("m-1"))
        metrics = (await client.get("/metrics")).text
        spec = (await client.get("/openapi.json")).json()
    assert 'triage_ingest_requests_total{outcome="accepted"} 1.0' in metrics
    assert "triage_ingest_publish_duration_seconds_bucket" in metrics
    assert (
        'triage_http_requests_total{method="POST",route="/v1/requests",service="ingest",status="202"}'
        in metrics
    )
    assert "/v1/requests" in spec["paths"] and "/v1/requests:batch" in spec["paths"]


async def _wait_ready(client: httpx.AsyncClient, status: int, within_s: float) -> httpx.Response:
    deadline = time.monotonic() + within_s
    while True:
        resp = await client.get("/readyz")
        if resp.status_code == status or time.monotonic() > deadline:
            return resp
        await asyncio.sleep(0.2)


async def test_broker_down_gives_503_not_ready_and_recovers(
    topics: Topics, tmp_path: Path, migrated_url: str
) -> None:
    broker = TansuBroker(tmp_path, port=procs.free_port())
    broker.start()
    env = _env(
        broker.bootstrap,
        topics,
        migrated_url,
        TRIAGE_INGEST_PUBLISH_TIMEOUT_S="2",
        TRIAGE_KAFKA_REQUEST_TIMEOUT_MS="1500",
    )
    try:
        with service_process("ingest", env, tmp_path) as url:
            async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as client:
                assert (await client.post("/v1/requests", json=_request("d-1"))).status_code == 202
                assert (await client.get("/readyz")).status_code == 200
                broker.stop()
                stopped = time.monotonic()
                resp = await client.post("/v1/requests", json=_request("d-2"))
                assert resp.status_code == 503, resp.text
                assert resp.headers["retry-after"] == "5"
                assert resp.json()["error"] == "broker_unavailable"
                ready = await _wait_ready(client, 503, within_s=15)
                assert ready.status_code == 503, ready.text
                assert ready.json()["error"] == "not_ready"
                assert "broker did not answer" in ready.json()["message"]
                not_ready_after = time.monotonic() - stopped
                assert (await client.get("/healthz")).status_code == 200  # alive all along

                broker.start()  # an empty broker on the same address
                restarted = time.monotonic()
                ready = await _wait_ready(client, 200, within_s=30)
                assert ready.status_code == 200, ready.text
                ready_after = time.monotonic() - restarted
                resp = await client.post("/v1/requests", json=_request("d-3"))
                assert resp.status_code == 202, resp.text
        print(f"not ready {not_ready_after:.1f}s after the stop, ready {ready_after:.1f}s"
              " after the restart")  # fmt: skip
    finally:
        broker.stop()


async def test_not_ready_without_broker(topics: Topics, tmp_path: Path) -> None:
    env = _env(f"127.0.0.1:{procs.free_port()}", topics)
    port = procs.free_port()
    import os
    import sys

    proc = procs.spawn([sys.executable, "-m", "triage.cli", "ingest"], tmp_path / "ingest.log",
                       {**os.environ, **env, "TRIAGE_PORT": str(port)})  # fmt: skip
    try:
        procs.wait_http_ok(f"http://127.0.0.1:{port}/healthz", 30, proc)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as client:
            assert (await client.get("/readyz")).status_code == 503
            resp = await client.post("/v1/requests", json=_request("n-1"))
        assert resp.status_code == 503
        assert "retry-after" in resp.headers
    finally:
        procs.stop(proc)


async def test_reused_external_id_409_retry_same_id_file_referenced_only(
    ingest_url: str, kafka_bootstrap: str, topics: Topics
) -> None:
    pdf = {"name": "a.pdf", "content_type": "application/pdf",
           "content_base64": "JVBERi0xLjcKJSVFT0YK"}  # "%PDF-1.7\n%%EOF\n"  # fmt: skip
    async with httpx.AsyncClient(base_url=ingest_url, headers=AUTH) as client:
        first = await client.post("/v1/requests", json=_request("r-1", attachments=[pdf]))
        retry = await client.post("/v1/requests", json=_request("r-1", attachments=[pdf]))
        reuse = await client.post("/v1/requests", json=_request("r-1", body="Autre chose."))
    assert first.status_code == retry.status_code == 202, first.text
    assert first.json()["request_id"] == retry.json()["request_id"]
    assert reuse.status_code == 409 and reuse.json()["error"] == "external_id_conflict"
    records = await read_topic(kafka_bootstrap, topics.documents, at_least=2)
    event = RequestReceived.model_validate_json(records[0].value)
    assert [d.name for d in event.documents] == ["a.pdf"]
    assert b"JVBERi0" not in records[0].value  # the bytes are in the store, not the event
