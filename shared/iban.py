"""Bank accounts: IBANs (ISO 13616 lengths, mod-97) and the old Belgian account form.

Part of ``shared.pii`` (which masks what this finds as ``[IBAN]``); kept apart so
that each module stays short. The separator patterns live here and are shared
with the national-number search: identifiers are typed with the same spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Span = tuple[int, int]

# Spaces as typed, including the no-break spaces word processors insert
# (U+00A0, narrow U+202F, thin U+2009).
SPACE = "[ \u00a0\u202f\u2009]"
# One space, or one of . - / optionally with a space on either side ("85 07 30 - 033 28").
SEPARATOR = rf"(?:{SPACE}?[.\-/]{SPACE}?|{SPACE})?"


# Total IBAN length per country, from the SWIFT IBAN registry (ISO 13616).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip
_IBAN_START_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})[ \u00a0\u202f\u2009.\-]{0,2}([0-9]{2})")
# Between IBAN characters: spaces (also doubled or no-break), dashes, dots and a
# line break, as pasted from bank statements and forms. The mod-97 check, not
# the layout, is what makes a candidate an IBAN.
_IBAN_SEPARATORS = frozenset(" \u00a0\u202f\u2009\t\r\n-.")
_IBAN_MAX_SEPARATOR = 3  # " - ", "\r\n ", "  "


def is_valid_iban(iban: str) -> bool:
    """True if ``iban`` (no spaces) has its country's length and passes mod-97."""
    iban = iban.upper()
    if not iban.isascii() or not iban.isalnum() or len(iban) < 5:
        return False
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not 2 <= int(iban[2:4]) <= 98:  # the only check digits ISO 7064 can produce
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _is_ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _separator_end(text: str, i: int) -> int | None:
    """End of a short separator run at ``i`` that is followed by an IBAN character."""
    end = i
    while end < len(text) and text[end] in _IBAN_SEPARATORS and end - i < _IBAN_MAX_SEPARATOR:
        end += 1
    if end == i or end >= len(text) or not _is_ascii_alnum(text[end]):
        return None
    return end


def _scan_iban(text: str, m: re.Match[str]) -> Span | None:
    """Read exactly the registry length from a candidate start, short separators allowed."""
    country = m.group(1).upper()
    length = _IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars = [country, m.group(2)]
    got, i, n = 4, m.end(), len(text)
    while got < length and i < n:
        c = text[i]
        if _is_ascii_alnum(c):
            chars.append(c)
            got += 1
            i += 1
            continue
        gap = _separator_end(text, i)
        if gap is None:
            break
        i = gap
    if got < length or (i < n and _is_ascii_alnum(text[i])):
        return None  # too short, or glued to a longer token
    return (m.start(), i) if is_valid_iban("".join(chars)) else None


# The Belgian account number before IBAN, still on old letters and forms:
# ``539-0075470-34``, where the last two digits are the first ten modulo 97
# (97 when that is 0). It is a bank account, so it is masked as ``[IBAN]``.
_BE_ACCOUNT_RE = re.compile(
    # first character a set, lookbehinds after it: the fast form (see _NISS_RE)
    r"([0-9](?<![0-9]{2})(?<![0-9][.,/\-][0-9])[0-9]{2})"
    rf"{SEPARATOR}([0-9]{{7}}){SEPARATOR}([0-9]{{2}})(?![.,]?[0-9])"
)


def _is_valid_be_account(digits: str) -> bool:
    return int(digits[10:]) == (int(digits[:10]) % 97 or 97)


def find_accounts(text: str) -> Iterator[Span]:
    """(start, end) of every IBAN and old Belgian account number in ``text``."""
    for m in _IBAN_START_RE.finditer(text):
        span = _scan_iban(text, m)
        if span is not None:
            yield span
    for m in _BE_ACCOUNT_RE.finditer(text):
        if _is_valid_be_account("".join(m.groups())):
            yield m.start(), m.end()
