"""The router API checks credentials before it reads a body: no or bad credentials
give 401 whatever the body is. The app runs in-process without its lifespan (no
database): every answer here comes before a query would be made."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from services.router.app import create_app
from services.router.settings import RouterSettings
from shared.auth import hash_secret

ITEM = str(uuid.uuid4())
# every endpoint that changes something, with a body it would accept
MUTATING = [
    ("/v1/queues/energy_aid/claim", None),
    (f"/v1/items/{ITEM}/heartbeat", None),
    (f"/v1/items/{ITEM}/complete", None),
    (f"/v1/items/{ITEM}/release", None),
    (f"/v1/items/{ITEM}/reassign", {"queue": "housing", "reason": "wrong team"}),
    (f"/v1/items/{ITEM}/correct", {"type": "housing", "reason": "wrong type"}),
]
BAD_BODIES = {
    "malformed JSON": b'{"queue": ',
    "not JSON at all": b"\xff\xfe<xml/>",
    "wrong shape": b"[1, 2, 3]",
    "unknown fields": b'{"surprise": true}',
    "deeply nested": b"[" * 10_000 + b"]" * 10_000,
}
NO_CREDENTIALS = {
    "none": {},
    "wrong token": {"Authorization": "Bearer not-a-token"},
    "wrong scheme": {"Authorization": "Basic YTpi"},
    "intake key": {"Authorization": "Bearer demo-key"},  # a source's key is not a user token
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = RouterSettings(
        router_users={"lena": {"token_sha256": hash_secret("lena-token"), "queues": ["*"],
                               "role": "lead"}},
        ingest_api_keys={"demo": hash_secret("demo-key")},
        router_consumer_enabled=False,
    )  # type: ignore[call-arg]  # fmt: skip
    # No `with`: the lifespan (database pool) does not run.
    yield TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.mark.parametrize(("path", "_good"), MUTATING)
@pytest.mark.parametrize("who", NO_CREDENTIALS)
@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_credentials_and_a_bad_body_get_401(
    client: TestClient, path: str, _good: object, who: str, body: str
) -> None:
    headers = {**NO_CREDENTIALS[who], "Content-Type": "application/json"}
    response = client.post(path, content=BAD_BODIES[body], headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthenticated"
    assert response.json()["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "good"), MUTATING)
@pytest.mark.parametrize("who", NO_CREDENTIALS)
def test_bad_credentials_and_a_good_body_get_401(
    client: TestClient, path: str, good: object, who: str
) -> None:
    response = client.post(path, json=good, headers=NO_CREDENTIALS[who])
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("path", "good"), [m for m in MUTATING if m[1] is not None])
def test_valid_credentials_still_get_the_body_checked(
    client: TestClient, path: str, good: object
) -> None:
    lead = {"Authorization": "Bearer lena-token", "Content-Type": "application/json"}
    response = client.post(path, content=BAD_BODIES["malformed JSON"], headers=lead)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"


def test_status_lookup_wants_a_source_key_not_a_user_token(client: TestClient) -> None:
    path = f"/v1/requests/{ITEM}"
    for headers in ({}, {"Authorization": "Bearer lena-token"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "unauthenticated"


@pytest.fixture(scope="module")
def proxied() -> Iterator[TestClient]:
    """A browser behind the auth proxy: the proxy's address, its identity header."""
    settings = RouterSettings(
        router_users={"lena": {"queues": ["*"], "role": "lead"}},
        router_trust_proxy_header=True,
        router_trusted_proxies=["10.0.0.1"],
        router_consumer_enabled=False,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    yield TestClient(app, raise_server_exceptions=False, client=("10.0.0.1", 40000))


@pytest.mark.parametrize(("path", "good"), MUTATING)
@pytest.mark.parametrize(
    "browser",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}],
    ids=["fetch-metadata", "origin"],
)
def test_cross_site_calls_with_the_proxy_identity_get_403(
    proxied: TestClient, path: str, good: object, browser: dict[str, str]
) -> None:
    response = proxied.post(path, json=good, headers={"X-Auth-User": "lena", **browser})
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "cross_site"


def test_same_site_calls_with_the_proxy_identity_pass_the_check(proxied: TestClient) -> None:
    same = {"X-Auth-User": "lena", "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    response = proxied.post(MUTATING[0][0], headers=same)
    # past identification and the cross-site check, it needs the database (not started)
    assert response.status_code == 503, response.text
    listed = proxied.get("/v1/queues", headers={"X-Auth-User": "lena", "Origin": "https://evil"})
    assert listed.status_code == 503  # reading changes nothing: no origin check


def test_proxy_header_from_another_address_is_refused(proxied: TestClient) -> None:
    spoofed = {"X-Auth-User": "lena", "X-Forwarded-For": "10.0.0.1"}
    other = TestClient(proxied.app, raise_server_exceptions=False, client=("10.9.9.9", 1))
    assert other.get("/v1/queues", headers=spoofed).status_code == 401


def test_over_the_rate_a_caller_gets_429_with_retry_after() -> None:
    settings = RouterSettings(
        router_users={"lena": {"token_sha256": hash_secret("lena-token"), "queues": ["*"]}},
        ingest_api_keys={"demo": hash_secret("demo-key")},
        router_api_per_minute=1,
        router_api_burst=2,
        router_consumer_enabled=False,
    )  # type: ignore[call-arg]
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    lena = {"Authorization": "Bearer lena-token"}
    assert [client.get("/v1/queues", headers=lena).status_code for _ in range(2)] == [503, 503]
    limited = client.get("/v1/queues", headers=lena)
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) == 60
    demo = {"Authorization": "Bearer demo-key"}  # a source has its own budget
    assert client.get(f"/v1/requests/{ITEM}", headers=demo).status_code == 503
