"""The page's session cookie: signed, HttpOnly, SameSite=Strict, never the token itself.

The cookie holds a small JSON document signed with HMAC-SHA256:
``u`` the user logged in with a token (absent for visitors and for users named by
the trusted auth proxy on every request), ``k`` a fingerprint of that user's
configured token hash (a rotated token ends the session), ``c`` the CSRF nonce
every POST form must echo, ``t`` the time it was issued (sessions expire).
Logout records the session's ``digest`` in the database, so a copy of the cookie
is refused afterwards by every replica.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "triage_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    csrf: str
    issued: float
    user: str | None = None
    key: str | None = None

    @property
    def digest(self) -> str:
        """What the server remembers of a session it ended: a hash of its secret nonce."""
        return hashlib.sha256(f"{self.csrf}:{int(self.issued)}".encode()).hexdigest()

    @staticmethod
    def fresh(user: str | None = None, key: str | None = None) -> Session:
        return Session(csrf=secrets.token_urlsafe(24), issued=time.time(), user=user, key=key)


class SessionCodec:
    def __init__(self, secret: bytes, max_age_s: float) -> None:
        self._secret = secret
        self.max_age_s = max_age_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def fingerprint(self, token_sha256: str | None) -> str:
        """A short keyed digest of the user's configured token hash."""
        digest = hmac.new(self._secret, (token_sha256 or "").encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def dumps(self, session: Session) -> str:
        doc = {"c": session.csrf, "t": int(session.issued)}
        if session.user is not None:
            doc["u"] = session.user
            doc["k"] = session.key or ""
        payload = _b64(json.dumps(doc, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None if absent, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            doc = json.loads(_unb64(payload))
            session = Session(
                csrf=str(doc["c"]),
                issued=float(doc["t"]),
                user=doc.get("u"),
                key=doc.get("k"),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        age = (now if now is not None else time.time()) - session.issued
        if age > self.max_age_s or age < -300:
            return None
        return session


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
