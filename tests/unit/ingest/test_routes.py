"""``POST /v1/requests`` and the batch route: every refusal, named, with its headers.

The app runs in-process without its lifespan; the publisher is replaced by a
fake that acknowledges (or not), so no broker is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.publisher import BrokerUnavailable
from services.ingest.settings import IngestSettings
from shared.auth import hash_secret
from shared.events import RequestReceived, request_id_for
from tests.fixtures.ledger import MemoryLedger
from tests.fixtures.samples import GOOD

KEY = {"Authorization": "Bearer demo-key"}


class FakePublisher:
    def __init__(self) -> None:
        self.up = True
        self.published: list[RequestReceived] = []

    def encoded(self, event: RequestReceived) -> bytes:
        return b""  # no size limit here

    async def publish(
        self, event: RequestReceived, topic: str | None = None, *, payload: bytes | None = None
    ) -> None:
        if not self.up:
            raise BrokerUnavailable("no ack")
        self.published.append(event)


def _client() -> tuple[TestClient, FakePublisher]:
    settings = IngestSettings(
        ingest_api_keys={"demo": hash_secret("demo-key"), "other": hash_secret("other-key")},
        ingest_max_text_chars=200,
        ingest_max_request_bytes=8192,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    publisher = FakePublisher()
    app.state.ingest.publisher = publisher
    app.state.ingest.ledger = MemoryLedger()
    # No `with`: the lifespan (broker connection) does not run.
    return TestClient(app, raise_server_exceptions=False), publisher


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[TestClient, FakePublisher]]:
    yield _client()


def _json(**change: Any) -> bytes:
    return json.dumps({**GOOD, **change}, ensure_ascii=False).encode()


CASES: dict[str, tuple[bytes, dict[str, str], int]] = {
    "accepted": (_json(), KEY, 202),
    "accepted, with a time zone": (
        _json(external_id="case-tz", received_at="2026-11-20T09:00:00+01:00"),
        KEY,
        202,
    ),
    "no credentials": (_json(), {}, 401),
    "wrong scheme": (_json(), {"Authorization": "Basic ZGVtbw=="}, 401),
    "unknown key": (_json(), {"Authorization": "Bearer nope"}, 401),
    "no credentials, bad body": (b"{", {}, 401),
    "another source": (_json(source="other"), KEY, 403),
    "malformed JSON": (b'{"source": ', KEY, 400),
    "invalid UTF-8": (b'{"source":"demo","body":"\xff"}', KEY, 400),
    "NaN": (b'{"source": NaN}', KEY, 422),
    "not an object": (b"[]", KEY, 422),
    "blank body": (_json(body="   "), KEY, 422),
    "unknown field": (_json(surprise=1), KEY, 422),
    "lone surrogate": (_json(body="x").replace(b'"x"', b'"a\\ud800"'), KEY, 422),
    "naive date-time": (_json(received_at="2026-11-20T09:00:00"), KEY, 422),
    "deeply nested": (b"[" * 2000 + b"]" * 2000, KEY, 400),
    "text too long": (_json(body="x" * 300), KEY, 413),
    "body too large": (_json(body="x" * 9000), KEY, 413),
}


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        "/v1/requests", content=body, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("case", CASES)
def test_each_input_gets_its_answer(clients: tuple[TestClient, FakePublisher], case: str) -> None:
    body, headers, status = CASES[case]
    response = _post(clients[0], body, headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get("www-authenticate") == ("Bearer" if status == 401 else None)
    assert "retry-after" not in response.headers
    if status >= 400:
        assert set(response.json()) == {"error", "message", "details"}
        assert response.json()["error"] and response.json()["message"]


# The batch route shares the caller-and-body step: the same refusals, before any item.
SHARED_STEP = [c for c in CASES if c.startswith(("no credentials", "wrong", "unknown key",
               "malformed", "invalid UTF-8", "deeply", "body too large"))]  # fmt: skip


@pytest.mark.parametrize("case", SHARED_STEP)
def test_batch_route_refuses_the_same_way(
    clients: tuple[TestClient, FakePublisher], case: str
) -> None:
    body, headers, status = CASES[case]
    single = _post(clients[0], body, headers)
    batch = clients[0].post(
        "/v1/requests:batch", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert batch.status_code == single.status_code == status, batch.text
    assert batch.json() == single.json()


def test_accepted_request_is_published_once_with_its_id(
    clients: tuple[TestClient, FakePublisher],
) -> None:
    client, publisher = clients
    before = len(publisher.published)
    response = _post(client, _json(external_id="once"), KEY)
    assert response.status_code == 202
    assert response.json() == {"request_id": request_id_for("demo", "once"), "status": "accepted"}
    assert [e.external_id for e in publisher.published[before:]] == ["once"]


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    clients: tuple[TestClient, FakePublisher],
) -> None:
    headers = {**KEY, "Content-Length": "999999"}
    response = clients[0].post("/v1/requests", content=_json(), headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_broker_down_is_503_with_retry_after() -> None:
    client, publisher = _client()
    publisher.up = False
    response = _post(client, _json(), KEY)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "broker_unavailable"


def test_requests_are_counted_under_the_route_template(
    clients: tuple[TestClient, FakePublisher],
) -> None:
    client = clients[0]
    _post(client, _json(external_id="counted"), KEY)
    metrics = client.get("/metrics").text
    labels = 'method="POST",route="/v1/requests",service="ingest",status="202"'
    assert f"triage_http_requests_total{{{labels}}}" in metrics
    assert 'triage_ingest_requests_total{outcome="accepted"}' in metrics


def test_other_paths_and_methods(
    clients: tuple[TestClient, FakePublisher],
) -> None:
    client = clients[0]
    assert client.get("/v1/requests").status_code == 405
    assert client.get("/v1/requests").json()["error"] == "method_not_allowed"
    assert client.get("/nowhere").json()["error"] == "not_found"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "/v1/requests" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("path", ["/v1/requests", "/v1/requests:batch"])
async def test_a_body_without_length_is_read_only_up_to_the_limit(path: str) -> None:
    """A chunked body that never ends: 413 after at most the limit's worth of chunks,
    never the whole body held in memory first."""
    client, _ = _client()  # ingest_max_request_bytes=8192
    chunk, read = b"[" + b" " * 1023, 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": read < 10_000}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
        "headers": [(b"authorization", b"Bearer demo-key"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    await client.app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert read <= 8192 // len(chunk) + 1
