"""Who is calling: team-lead/agent identities and intake sources.

Users come from ``TRIAGE_ROUTER_USERS`` (JSON) and/or a YAML file, each with a
hashed token, the queues they may see (``"*"`` = all) and a role (``agent``, ``lead``
or ``manager``; a lead may release, reassign and correct items other people hold; leads
and managers read the KPIs of their queues).
A trusted auth proxy may name the user in a header instead of a token; the
header is honoured only when enabled and only from the listed proxy addresses
(the real peer: the router does not rewrite it from ``X-Forwarded-For``), and
the router refuses to start with the header trusted but no proxy listed. A
browser sends the proxy's identity with every request, so state-changing calls
identified that way must come from the same site (``cross_site``). Intake
sources authenticate with their ingest API key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.auth import bearer, find_owner
from shared.errors import Forbidden, NotFound, Unauthenticated
from shared.settings import ConfigError

ALL = "*"
_HASH = r"^sha256:[0-9a-f]{64}$"


class AuthConfigError(ConfigError):
    """Unusable identity settings; the message names the user and the field."""


class UserSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_sha256: str | None = Field(default=None, pattern=_HASH)
    queues: list[str] = Field(min_length=1)
    role: Literal["agent", "lead", "manager"] = "agent"


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    queues: frozenset[str] | None  # None: every queue

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    def may_see(self, queue: str) -> bool:
        return self.queues is None or queue in self.queues

    def visible(self) -> list[str] | None:
        """The SQL filter: None means no restriction."""
        return None if self.queues is None else sorted(self.queues)

    def require(self, queue: str) -> None:
        if not self.may_see(queue):
            raise Forbidden(f"you may not access queue {queue!r}")

    def require_item(self, queue: str, item_id: object) -> None:
        """An item in a queue the caller may not see is reported like an unknown one
        (404): a 403 would confirm that the request exists."""
        if not self.may_see(queue):
            raise NotFound(f"item {item_id} not found")


def parse_users(raw: Mapping[str, Any], origin: str) -> dict[str, UserSpec]:
    users: dict[str, UserSpec] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise AuthConfigError(f"{origin}: invalid user name {name!r}")
        try:
            users[name] = UserSpec.model_validate(spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise AuthConfigError(f"{origin}: user {name!r}: {loc}: {err['msg']}") from exc
    return users


def _where(exc: OSError | yaml.YAMLError) -> str:
    """What went wrong, without the text YAML would quote (it may be a pasted token)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return "invalid YAML"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}"


def load_users(inline: Mapping[str, Any], path: Path | None) -> dict[str, UserSpec]:
    users = parse_users(inline, "TRIAGE_ROUTER_USERS")
    if path is None:
        return users
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AuthConfigError(f"{path}: cannot read users file ({_where(exc)})") from exc
    if not isinstance(data, dict):
        raise AuthConfigError(f"{path}: expected a mapping user -> {{token_sha256, queues, role}}")
    from_file = parse_users(data, str(path))
    both = sorted(set(users) & set(from_file))
    if both:
        raise AuthConfigError(f"user(s) {both} defined both in TRIAGE_ROUTER_USERS and {path}")
    return {**users, **from_file}


def parse_networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(e, strict=False) for e in entries]
    except ValueError as exc:
        raise AuthConfigError(f"TRIAGE_ROUTER_TRUSTED_PROXIES: {exc}") from exc


class Authenticator:
    def __init__(
        self,
        users: Mapping[str, UserSpec],
        *,
        ingest_keys: Mapping[str, str] | None = None,
        trust_proxy_header: bool = False,
        trusted_proxies: list[str] | None = None,
    ) -> None:
        self.users = dict(users)
        self.ingest_keys = dict(ingest_keys or {})
        self.trust_proxy_header = trust_proxy_header
        self.proxies = parse_networks(trusted_proxies or [])
        if trust_proxy_header and not self.proxies:
            raise AuthConfigError(
                "TRIAGE_ROUTER_TRUST_PROXY_HEADER is on but TRIAGE_ROUTER_TRUSTED_PROXIES is "
                "empty: anybody could name any user in the header; list the auth proxy's "
                "addresses or CIDRs"
            )
        self._tokens = {n: u.token_sha256 for n, u in self.users.items() if u.token_sha256}

    def _principal(self, name: str) -> Principal:
        spec = self.users[name]
        queues = None if ALL in spec.queues else frozenset(spec.queues)
        return Principal(name, spec.role, queues)

    def _from_proxy(self, client: str | None) -> bool:
        return self.trust_proxy_header and _within(client or "", self.proxies)

    def user(
        self, authorization: str | None, proxy_user: str | None, client: str | None
    ) -> Principal:
        """The calling user, or Unauthenticated (401) with the reason."""
        token = bearer(authorization)
        if authorization and token is None:
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        if token is not None:
            name = find_owner(token, self._tokens)
            if name is None:
                raise Unauthenticated("invalid token")
            return self._principal(name)
        if proxy_user:
            if not self._from_proxy(client):
                raise Unauthenticated("the auth-proxy header is not accepted from this address")
            if proxy_user not in self.users:
                raise Unauthenticated(f"unknown user {proxy_user!r}")
            return self._principal(proxy_user)
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <token>'")

    def source(self, authorization: str | None) -> str:
        """The intake source owning the API key, or Unauthenticated (401)."""
        token = bearer(authorization)
        if token is None:
            raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
        source = find_owner(token, self.ingest_keys)
        if source is None:
            raise Unauthenticated("invalid API key")
        return source


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE_FETCH = frozenset({"same-origin", "none"})  # "none": typed URL, bookmark


def cross_site(method: str, host: str | None, origin: str | None, fetch_site: str | None) -> bool:
    """True when a browser says this state-changing request comes from another site.

    Fetch metadata (``Sec-Fetch-Site``) first, then ``Origin`` against the host the
    browser addressed (``host``: the proxy's ``X-Forwarded-Host`` if it sets one).
    A request with neither header is not a browser's, so it is not cross-site.
    """
    if method.upper() in SAFE_METHODS:
        return False
    if fetch_site is not None:
        return fetch_site.lower() not in _SAME_SITE_FETCH
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != (host or "").lower()


Networks = list[ipaddress.IPv4Network | ipaddress.IPv6Network]


def _within(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Networks) -> str:
    """Who is asking, for per-client limits: the peer, or, when the peer is one of our
    reverse ``proxies``, the nearest address in ``X-Forwarded-For`` that is not one of
    them (entries further left are whatever the client claimed)."""
    address = peer or "unknown"
    if not forwarded_for or not _within(address, proxies):
        return address
    for hop in reversed(forwarded_for.split(",")):
        address = hop.strip() or address
        if not _within(address, proxies):
            break
    return address
