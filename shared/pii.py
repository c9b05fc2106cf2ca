"""PII detection and masking: Belgian national numbers, IBANs, e-mails, phones.

Used before any text reaches the model, and by logs and training exports, so it
errs on the side of masking: a phone-shaped number that might be a phone is
masked, but only numbers that pass their check digits become ``[NISS]`` or
``[IBAN]``.

Detection is candidate extraction with plain regexes, then validation:

* NISS (rijksregisternummer / INSZ): 11 digits ``YYMMDD SSS CC`` with optional
  single separators (``85.07.30-033.28``, ``850730 033 28``, ``85073003328``,
  ``85 07 30 - 033 28``; spaces may be no-break U+00A0 / U+202F / U+2009).
  Valid when the month is 0-12 (0 = unknown), or +20/+40 for bis numbers, the
  day is 0-31, and ``CC == 97 - N % 97`` where ``N`` is the first 9 digits, or
  ``"2" + first 9 digits`` for people born from 2000 on.
* IBAN: country code + 2 check digits + BBAN, short runs of spaces (also
  no-break), dashes, dots or a line break allowed between characters; the
  length must match the ISO 13616 registry for the country and the whole must
  pass the mod-97 check. The old Belgian account form ``539-0075470-34`` (check
  digits = first ten mod 97) is masked as ``[IBAN]`` too.
* E-mail: a conventional ``local@domain.tld`` regex.
* Phone: digit runs starting with ``+``, ``00`` or a trunk ``0`` (how phones are
  written in Belgium and its neighbours), validated with ``phonenumbers``.
  Dates (``12/03/2025``, ``01.03.25``) are blanked before the phone search so
  that a date next to a time or a number is never read as a phone. A Belgian
  national number of the right length is masked even when libphonenumber does
  not know its range (``02 123 45 67``).

Overlaps are resolved deterministically: among IBAN, NISS and e-mail candidates
the longest span wins, then IBAN > NISS > EMAIL, then the leftmost; phones are
only searched outside those. Detection is repeated around what was found until
nothing new appears, which makes ``mask`` idempotent.

Speed (2 shared cores): ~0.01 ms for 2,000 characters without digits or "@",
0.1-0.4 ms for 2,000 characters with numbers, dates and several identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from shared.iban import SEPARATOR as _SEP
from shared.iban import SPACE as _SPACE
from shared.iban import find_accounts, is_valid_iban

PiiKind = Literal["NISS", "IBAN", "EMAIL", "PHONE"]

__all__ = [
    "PLACEHOLDER_RE",
    "PiiKind",
    "PiiSpan",
    "find",
    "is_valid_iban",
    "is_valid_niss",
    "mask",
    "replace_spans",
]

# What mask() writes in place of an identifier (for consumers that skip them).
PLACEHOLDER_RE = re.compile(r"\[(?:NISS|IBAN|EMAIL|PHONE)\]")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """A detected identifier: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: PiiKind

    @property
    def placeholder(self) -> str:
        return f"[{self.kind}]"


# --- NISS -------------------------------------------------------------------


# The lookbehinds sit after the first character so that the pattern starts with
# a character set, which lets the regex engine skip ahead quickly (4x faster).
_NISS_RE = re.compile(
    # Not glued to a longer number, also not across a separator ("1.85073003361").
    r"([0-9](?<![0-9]{2})(?<![0-9][.,/\-][0-9])[0-9])"
    rf"{_SEP}([0-9]{{2}}){_SEP}([0-9]{{2}}){_SEP}([0-9]{{3}}){_SEP}([0-9]{{2}})"
    # A checksum-valid number may be followed by "/" or "-" and another number
    # (a list of identifiers); a decimal part means it is an amount.
    r"(?![.,]?[0-9])"
)
_POST_2000_OFFSET = 2_000_000_000  # "2" prepended to the 9-digit body


def is_valid_niss(digits: str) -> bool:
    """True if ``digits`` (11 ASCII digits, no separators) is a valid NISS or bis number."""
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    if day > 31 or not (month <= 12 or 20 <= month <= 32 or 40 <= month <= 52):
        return False
    body, check = int(digits[:9]), int(digits[9:])
    return check in (97 - body % 97, 97 - (_POST_2000_OFFSET + body) % 97)


def _find_niss(text: str) -> Iterator[PiiSpan]:
    for m in _NISS_RE.finditer(text):
        if is_valid_niss("".join(m.groups())):
            yield PiiSpan(m.start(), m.end(), "NISS")


# --- IBAN (shared.iban) -----------------------------------------------------


def _find_iban(text: str) -> Iterator[PiiSpan]:
    for start, end in find_accounts(text):
        yield PiiSpan(start, end, "IBAN")


# --- E-mail -----------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@(?:[\w\-]+\.)+[^\W\d_]{2,}(?![\w\-])")


def _find_email(text: str) -> Iterator[PiiSpan]:
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        yield PiiSpan(m.start(), m.end(), "EMAIL")


# --- Phone ------------------------------------------------------------------

# Same separator twice: 12/03/2025, 1.3.25, 01-03-2025 (not 04/123.45.67, and
# not the tail of 0470/12.03.56).
_DATE_RE = re.compile(
    r"([0-9](?<![0-9]{2})(?<![0-9][./\-][0-9])[0-9]?)"
    r"([./\-])([0-9]{1,2})\2(?:[0-9]{4}|[0-9]{2})(?![0-9])"
)
_PHONE_SEP = rf"(?:{_SPACE}?[./\-]{_SPACE}?|{_SPACE}|\) ?| ?\(0\) ?)?"
_PHONE_RE = re.compile(
    # Starts with "+" or a trunk/IDD "0", and is not the tail of a longer
    # number or word ("2024/0470123456", "A0470123456").
    r"[+0](?<![\w+][+0])(?<![0-9][.,/\-][+0])"
    rf"[0-9](?:{_PHONE_SEP}[0-9]){{6,17}}"
)
_NON_DIGIT_RE = re.compile(r"[^0-9]+")
_NATIONAL_REGIONS = ("BE", "FR", "NL")  # national formats of Belgium and its neighbours
_MIN_PHONE_DIGITS = 8
_NATIONAL_DIGITS = (9, 10)  # trunk 0 included, in BE, FR and NL alike
_BE_NSN_LENGTHS = (8, 9)  # landlines 0X XXX XX XX / 0XX XX XX XX, mobiles 04XX XX XX XX


def _parse(candidate: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


# libphonenumber does not read the no-break spaces as separators.
_TO_PLAIN_SPACE = str.maketrans("\u00a0\u202f\u2009", "   ")


def _is_phone(candidate: str) -> bool:
    candidate = candidate.translate(_TO_PLAIN_SPACE)
    digits = len(_NON_DIGIT_RE.sub("", candidate))
    if candidate.startswith(("+", "00")):
        # International form: must be a number actually in use somewhere.
        number = _parse(candidate, "BE")
        return number is not None and phonenumbers.is_valid_number(number)
    if digits not in _NATIONAL_DIGITS:
        return False
    for region in _NATIONAL_REGIONS:
        number = _parse(candidate, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return True
    # A Belgian-length number written with a trunk 0 is masked even when its
    # range is unallocated in libphonenumber's data: leaking a real number is
    # worse than hiding a fictional one.
    number = _parse(candidate, "BE")
    return (
        number is not None
        and not number.italian_leading_zero
        and len(str(number.national_number)) in _BE_NSN_LENGTHS
    )


def _trim_last_group(text: str, start: int, end: int) -> int:
    """End of the candidate without its last digit group (start if nothing is left)."""
    i = end
    while i > start and text[i - 1].isdigit():
        i -= 1
    while i > start and not text[i - 1].isdigit():
        i -= 1
    return i


def _match_phone(text: str, start: int, end: int, seen: dict[str, bool]) -> int | None:
    """End of the longest valid phone starting at ``start``, trimming trailing groups.

    ``seen`` caches verdicts for the passes of one ``find`` call: parsing is
    the costly part.
    """
    while end > start:
        candidate = text[start:end]
        if len(_NON_DIGIT_RE.sub("", candidate)) < _MIN_PHONE_DIGITS:
            return None
        verdict = seen.get(candidate)
        if verdict is None:
            verdict = seen[candidate] = _is_phone(candidate)
        if verdict:
            return end
        end = _trim_last_group(text, start, end)
    return None


def _blank_date(m: re.Match[str]) -> str:
    day, month = int(m.group(1)), int(m.group(3))
    return "#" * len(m.group()) if 1 <= day <= 31 and 1 <= month <= 12 else m.group()


def _blank_dates(text: str) -> str:
    return _DATE_RE.sub(_blank_date, text)


def _find_phone(text: str, seen: dict[str, bool]) -> Iterator[PiiSpan]:
    scan = _blank_dates(text)
    pos = 0
    while (m := _PHONE_RE.search(scan, pos)) is not None:
        start, end = m.start(), _match_phone(text, m.start(), m.end(), seen)
        if end is None:
            pos = start + 1
            continue
        yield PiiSpan(start, end, "PHONE")
        pos = end


# --- Resolution and masking -------------------------------------------------

_PRIORITY: dict[str, int] = {"IBAN": 0, "NISS": 1, "EMAIL": 2, "PHONE": 3}
_MAY_HAVE_PII_RE = re.compile(r"[0-9@]")
# Neutral filler for found spans: not a digit, letter, separator or e-mail char,
# so it borders the next candidate exactly like a "[KIND]" placeholder would.
_FILLER = "#"
_MAX_PASSES = 16


def _resolve(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Keep non-overlapping spans: longest first, then most specific, then leftmost."""
    ordered = sorted(spans, key=lambda s: (s.start - s.end, _PRIORITY[s.kind], s.start))
    kept: list[PiiSpan] = []
    for span in ordered:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return kept


def _detect(text: str, seen: dict[str, bool]) -> list[PiiSpan]:
    checked = _resolve([*_find_iban(text), *_find_niss(text), *_find_email(text)])
    # Phones are searched around the checksum-validated identifiers, never
    # inside them: cheaper, and "0754 7034" in an IBAN is no phone.
    phones = list(_find_phone(_blank(text, checked) if checked else text, seen))
    return checked + phones


def _blank(text: str, spans: list[PiiSpan]) -> str:
    chars = list(text)
    for span in spans:
        chars[span.start : span.end] = _FILLER * (span.end - span.start)
    return "".join(chars)


def find(text: str) -> list[PiiSpan]:
    """All identifiers in ``text``, non-overlapping, sorted by start.

    Detection repeats on a copy where found spans are blanked: a number glued to
    another one ("0470 12 34 56/85073003328") is rejected as the tail of a
    longer number until its neighbour is known to be an identifier itself. This
    also makes ``mask`` idempotent.
    """
    if not _MAY_HAVE_PII_RE.search(text):
        return []
    found: list[PiiSpan] = []
    seen: dict[str, bool] = {}
    view = text
    for _ in range(_MAX_PASSES):
        new = _detect(view, seen)
        if not new:
            break
        found.extend(new)
        view = _blank(view, new)
    return sorted(found, key=lambda s: s.start)


def replace_spans(text: str, spans: list[PiiSpan], offset: int = 0) -> str:
    """Replace ``spans`` (sorted, non-overlapping) by their placeholders.

    ``offset`` is the position of ``text`` in the string the spans refer to, so
    that a window of a longer text can be masked with the spans of the whole.
    """
    parts: list[str] = []
    pos = 0
    for span in spans:
        start, end = span.start - offset, span.end - offset
        if end <= 0 or start >= len(text):
            continue
        parts.append(text[pos : max(start, 0)])
        parts.append(span.placeholder)
        pos = max(end, pos)
    parts.append(text[pos:])
    return "".join(parts)


def mask(text: str) -> str:
    """``text`` with each identifier replaced by ``[NISS]``/``[IBAN]``/``[EMAIL]``/``[PHONE]``."""
    return replace_spans(text, find(text))
