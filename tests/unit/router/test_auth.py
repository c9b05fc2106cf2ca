"""Identities: user tokens, the trusted proxy header, intake API keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.router.auth import (
    AuthConfigError,
    Authenticator,
    client_address,
    cross_site,
    load_users,
    parse_networks,
    parse_users,
)
from services.router.settings import RouterSettings
from shared.auth import bearer, hash_secret
from shared.errors import Forbidden, Unauthenticated

USERS = {
    "alice": {"token_sha256": hash_secret("a-token"), "queues": ["energy_aid", "review"]},
    "lena": {"token_sha256": hash_secret("l-token"), "queues": ["*"], "role": "lead"},
    "sso-only": {"queues": ["housing"]},
}


def make(**options: object) -> Authenticator:
    keys = {"demo": hash_secret("demo-key")}
    return Authenticator(parse_users(USERS, "test"), ingest_keys=keys, **options)  # type: ignore[arg-type]


def test_bearer_token_identifies_the_user_and_their_queues() -> None:
    alice = make().user("Bearer a-token", None, "10.0.0.1")
    assert (alice.name, alice.role, alice.is_lead) == ("alice", "agent", False)
    assert alice.may_see("energy_aid") and not alice.may_see("housing")
    assert alice.visible() == ["energy_aid", "review"]
    with pytest.raises(Forbidden, match="may not access queue 'housing'"):
        alice.require("housing")


def test_star_means_every_queue() -> None:
    lena = make().user("bearer l-token", None, None)
    assert lena.is_lead and lena.queues is None and lena.visible() is None
    assert lena.may_see("anything")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing credentials"),
        ("Bearer wrong", "invalid token"),
        ("Basic YWxpY2U6eA==", "must be 'Bearer <token>'"),
        ("Bearer ", "must be 'Bearer <token>'"),
        ("Bearer demo-key", "invalid token"),  # an intake key is not a user token
    ],
)
def test_refused_credentials(header: str | None, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        make().user(header, None, "10.0.0.1")


def test_proxy_header_is_ignored_unless_trusted() -> None:
    with pytest.raises(Unauthenticated, match="not accepted from this address"):
        make().user(None, "alice", "10.0.0.1")


PROXY = {"trust_proxy_header": True, "trusted_proxies": ["10.0.0.1"]}


def test_trusting_the_header_without_listed_proxies_refuses_to_start() -> None:
    with pytest.raises(AuthConfigError, match="TRIAGE_ROUTER_TRUSTED_PROXIES is empty"):
        make(trust_proxy_header=True)
    with pytest.raises(AuthConfigError, match="TRIAGE_ROUTER_TRUSTED_PROXIES is empty"):
        make(trust_proxy_header=True, trusted_proxies=[])


def test_trusted_proxy_header_names_a_user_without_a_token() -> None:
    who = make(**PROXY).user(None, "sso-only", "10.0.0.1")
    assert who.name == "sso-only" and who.visible() == ["housing"]


def test_trusted_proxy_header_only_from_listed_proxies() -> None:
    auth = make(trust_proxy_header=True, trusted_proxies=["10.1.0.0/16", "::1"])
    assert auth.user(None, "alice", "10.1.2.3").name == "alice"
    assert auth.user(None, "alice", "::1").name == "alice"
    for client in ("10.2.0.1", None, "not-an-ip"):
        with pytest.raises(Unauthenticated):
            auth.user(None, "alice", client)


def test_proxy_user_must_be_configured() -> None:
    with pytest.raises(Unauthenticated, match="unknown user 'mallory'"):
        make(**PROXY).user(None, "mallory", "10.0.0.1")


def test_a_token_wins_over_the_proxy_header() -> None:
    auth = make(**PROXY)
    assert auth.user("Bearer l-token", "alice", "10.0.0.1").name == "lena"


@pytest.mark.parametrize(
    ("method", "origin", "fetch_site", "refused"),
    [
        ("POST", None, "cross-site", True),
        ("POST", None, "same-site", True),  # a sibling sub-domain is another application
        ("POST", None, "same-origin", False),
        ("POST", None, "none", False),
        ("POST", "https://evil.example", None, True),
        ("POST", "null", None, True),  # sandboxed frame, data: URL
        ("POST", "https://triage.example.be", None, False),
        ("POST", None, None, False),  # not a browser: nothing travels by itself
        ("GET", "https://evil.example", "cross-site", False),  # reading changes nothing
        ("DELETE", "https://evil.example", None, True),
    ],
)
def test_cross_site_state_changes_are_recognised(
    method: str, origin: str | None, fetch_site: str | None, refused: bool
) -> None:
    assert cross_site(method, "triage.example.be", origin, fetch_site) is refused


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not our proxy: header ignored
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # left part: client's claim
        ("10.0.0.5", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two proxy hops
        ("10.0.0.5", None, "10.0.0.5"),
        (None, None, "unknown"),
    ],
)
def test_client_address_for_limits(peer: str | None, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, parse_networks(["10.0.0.0/8"])) == expected


def test_intake_source_from_its_api_key() -> None:
    auth = make()
    assert auth.source("Bearer demo-key") == "demo"
    with pytest.raises(Unauthenticated, match="invalid API key"):
        auth.source("Bearer a-token")
    with pytest.raises(Unauthenticated, match="missing API key"):
        auth.source(None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"token_sha256": "plain", "queues": ["x"]}, "user 'u': token_sha256: String should"),
        ({"queues": []}, "user 'u': queues: List should have at least 1 item"),
        (
            {"queues": ["x"], "role": "admin"},
            "user 'u': role: Input should be 'agent', 'lead' or 'manager'",
        ),
        ({"queues": ["x"], "password": "x"}, "user 'u': password: Extra inputs"),
    ],
)
def test_invalid_user_settings_name_the_user(spec: dict[str, object], message: str) -> None:
    with pytest.raises(AuthConfigError, match=message):
        parse_users({"u": spec}, "TRIAGE_ROUTER_USERS")


def test_users_file_adds_users_and_refuses_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("bob:\n  queues: [housing]\n  role: lead\n")
    users = load_users({"alice": USERS["alice"]}, path)
    assert sorted(users) == ["alice", "bob"] and users["bob"].role == "lead"
    with pytest.raises(AuthConfigError, match="defined both"):
        load_users({"bob": {"queues": ["x"]}}, path)
    with pytest.raises(AuthConfigError, match="cannot read users file"):
        load_users({}, tmp_path / "missing.yaml")


def test_ingest_keys_must_be_hashed() -> None:
    keys = RouterSettings(ingest_api_keys={"demo": hash_secret("k")}).ingest_api_keys
    assert keys == {"demo": hash_secret("k")}
    with pytest.raises(ValidationError, match=r"source\(s\) \['demo'\]") as info:
        RouterSettings(ingest_api_keys={"demo": "plain-key"})
    assert "plain-key" not in str(info.value)  # the refusal never echoes the secret


def test_bearer_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer   abc ") == "abc"
    assert bearer("Token abc") is None
    assert bearer(None) is None
