"""Keyed hashes of the identifiers in a request: how the router finds the same person.

The identifiers the PII detector finds (``shared/pii.py``: national number, IBAN,
e-mail, phone) are normalised (``85.07.30-033.28`` and ``85073003328`` are one
number, ``0470 12 34 56`` and ``+32 470 12 34 56`` one phone) and hashed with
HMAC-SHA256 under a key only the classifier holds
(``TRIAGE_IDENTITY_HASH_KEY``). The router stores and compares the hashes and
never sees the key: a copy of its database cannot be searched for a given
national number by hashing every possible one (there are only ~10^9).
Pure functions: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers

from shared.events import MAX_IDENTITY_HASHES
from shared.pii import PiiSpan

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_NOT_DIGIT = re.compile(r"[^0-9]+")
HASH_HEX_CHARS = 32  # 128 bits: no collision among a country's identifiers


def _phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "BE")
    except phonenumbers.NumberParseException:
        return _NOT_DIGIT.sub("", raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: str, raw: str) -> str:
    """One spelling per identifier, whatever separators and case the writer used."""
    if kind == "NISS":
        return _NOT_DIGIT.sub("", raw)
    if kind == "IBAN":
        return _NOT_ALNUM.sub("", raw).upper()
    if kind == "EMAIL":
        return raw.strip().lower()
    return _phone(raw)


def identity_hash(key: bytes, kind: str, raw: str) -> str:
    """HMAC-SHA256 of ``KIND:normalised`` under ``key``, hex, truncated to 128 bits."""
    message = f"{kind}:{normalise(kind, raw)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]


def identity_hashes(key: bytes, text: str, spans: list[PiiSpan]) -> list[str]:
    """Distinct hashes of the identifiers ``spans`` found in ``text``, first ones first."""
    out: list[str] = []
    for span in spans:
        digest = identity_hash(key, span.kind, text[span.start : span.end])
        if digest not in out:
            out.append(digest)
        if len(out) == MAX_IDENTITY_HASHES:
            break
    return out
