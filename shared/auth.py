"""API keys and user tokens: stored hashed, compared in constant time.

Keys are high-entropy random strings, so a plain SHA-256 is the right hash
(a slow password hash would only add latency to every request).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets

PREFIX = "sha256:"


def hash_secret(secret: str) -> str:
    return PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def verify(secret: str, hashed: str) -> bool:
    if not hashed.startswith(PREFIX):
        return False
    return hmac.compare_digest(hash_secret(secret), hashed)


def find_owner(secret: str, hashed_by_owner: dict[str, str]) -> str | None:
    """The owner whose hashed secret matches, or None. Checks all to keep timing flat."""
    candidate = hash_secret(secret)
    found = None
    for owner, hashed in hashed_by_owner.items():
        if hmac.compare_digest(candidate, hashed):
            found = owner
    return found


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None (scheme case-blind)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="triage hash-key", description="Hash an API key or user token for the settings."
    )
    parser.add_argument("secret", nargs="?", help="the secret; a new random one when omitted")
    args = parser.parse_args(argv)
    secret = args.secret or new_secret()
    if not args.secret:
        print(f"secret: {secret}")
    print(f"hash:   {hash_secret(secret)}")
    return 0
