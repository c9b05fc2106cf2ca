"""The signed session cookie and the CSRF check (pure)."""

from __future__ import annotations

import time

from services.router.web.context import safe_next
from services.router.web.session import Session, SessionCodec, csrf_ok


def codec(secret: bytes = b"k" * 32, hours: float = 10) -> SessionCodec:
    return SessionCodec(secret, hours * 3600)


def test_round_trip() -> None:
    c = codec()
    session = Session.fresh("alice", c.fingerprint("sha256:abc"))
    loaded = c.loads(c.dumps(session))
    assert loaded is not None
    assert (loaded.user, loaded.key, loaded.csrf) == ("alice", session.key, session.csrf)
    visitor = c.loads(c.dumps(Session.fresh()))
    assert visitor is not None and visitor.user is None


def test_forged_or_foreign_cookies_are_ignored() -> None:
    c = codec()
    value = c.dumps(Session.fresh("alice", "x"))
    payload, signature = value.split(".")
    assert codec(b"other" * 8).loads(value) is None
    assert c.loads(f"{payload}x.{signature}") is None
    assert c.loads(f"{payload}.{signature[:-2]}") is None
    for junk in ("", "abc", "a.b.c", None):
        assert c.loads(junk) is None


def test_sessions_expire() -> None:
    c = codec(hours=1)
    value = c.dumps(Session.fresh("alice", "x"))
    assert c.loads(value, now=time.time() + 3000) is not None
    assert c.loads(value, now=time.time() + 3700) is None


def test_the_cookie_never_contains_the_token_hash() -> None:
    c = codec()
    token_hash = "sha256:" + "ab" * 32
    value = c.dumps(Session.fresh("alice", c.fingerprint(token_hash)))
    assert "ab" * 8 not in value
    assert c.fingerprint(token_hash) != c.fingerprint("sha256:" + "cd" * 32)


def test_csrf() -> None:
    session = Session.fresh()
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, "other")
    assert not csrf_ok(session, None)
    assert not csrf_ok(None, session.csrf)
    assert Session.fresh().csrf != session.csrf


def test_redirects_stay_on_the_page() -> None:
    assert safe_next("/ui/queues/housing?urgency=high") == "/ui/queues/housing?urgency=high"
    for target in (None, "", "https://evil.example/", "//evil.example/ui/", "/v1/queues",
                   "/ui/\\evil", "/ui/x\r\nSet-Cookie: a=b"):  # fmt: skip
        assert safe_next(target) == "/ui/"
