"""Translations of the page: one flat JSON catalogue per language (fr, nl, en).

Labels are looked up by key (``t("queue.take_next")``) with ``{name}``
placeholders; a key missing from a catalogue falls back to English, then to the
key itself, so a gap shows up as a visible key rather than an error page (a unit
test keeps the three catalogues on the same keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE_DIR = Path(__file__).with_name("translations")
LANGUAGES = ("fr", "nl", "en")
FALLBACK = "en"


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """The labels of one language (read once per process)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    data = json.loads((CATALOGUE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{language}.json: expected a flat mapping key -> text")
    return data


def negotiate(accept_language: str | None, default: str = FALLBACK) -> str:
    """The best of fr/nl/en for an ``Accept-Language`` header (q-values honoured)."""
    best, best_q = default, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Earlier entries win ties, as browsers list them in preference order.
        q -= position * 1e-6
        if q > best_q:
            best, best_q = primary, q
    return best


@dataclass(frozen=True)
class Translator:
    language: str

    def __call__(self, key: str, **params: object) -> str:
        text = catalogue(self.language).get(key) or catalogue(FALLBACK).get(key) or key
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        return key in catalogue(self.language)

    def label(self, prefix: str, value: str | None) -> str:
        """A translated data value (a queue, an urgency), or the value itself."""
        if value is None:
            return ""
        key = f"{prefix}.{value}"
        return self(key) if key in catalogue(FALLBACK) else value
