"""Offline language detection of requests, with lingua (n-gram models shipped in the wheel).

The detector is restricted to the languages seen in Belgian public services:
fewer candidates is both more accurate and lighter. Only the first
``max_chars`` characters are read: the language of a request is settled long
before that, and lingua's cost grows with the text (measured on 2 cores: about
0.5 ms per text at 1,000 characters, 1 ms for a whole 300-word text).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetectorBuilder

from shared.pii import PLACEHOLDER_RE

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"
# The three official working languages first, then the languages most often
# written to Belgian public services by residents.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "fr", "nl", "en", "de", "it", "es", "pt", "tr", "ar", "pl", "ro",
)  # fmt: skip
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MIN_LETTERS = 5
DEFAULT_MAX_CHARS = 1000


def _iso_code(code: str) -> IsoCode639_1:
    try:
        return getattr(IsoCode639_1, code.upper())  # type: ignore[no-any-return]
    except AttributeError:
        raise ValueError(f"unknown ISO 639-1 language code {code!r}") from None


class LanguageDetector:
    """``detect(text) -> (iso 639-1 code | "unknown", confidence)``.

    Construction loads the language models (about 1-3 s, 150-300 MB with the
    high-accuracy models): build one per process, at startup, and share it.
    ``low_accuracy=True`` uses trigram models only (~20 MB, as fast, but much
    less reliable on texts shorter than a sentence).
    """

    def __init__(
        self,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_letters: int = DEFAULT_MIN_LETTERS,
        max_chars: int = DEFAULT_MAX_CHARS,
        low_accuracy: bool = False,
    ) -> None:
        codes = tuple(dict.fromkeys(c.lower() for c in languages))
        if len(codes) < 2:
            raise ValueError("a language detector needs at least two languages")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        if max_chars < 1:
            raise ValueError(f"max_chars must be positive, got {max_chars}")
        self.languages = codes
        self.min_confidence = min_confidence
        self.min_letters = min_letters
        self.max_chars = max_chars
        started = time.perf_counter()
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*map(_iso_code, codes))
        builder = builder.with_preloaded_language_models()
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()
        logger.info(
            "language detector ready: %s (low_accuracy=%s) in %.2f s",
            ",".join(codes),
            low_accuracy,
            time.perf_counter() - started,
        )

    def _prepare(self, text: str) -> str | None:
        """The part of ``text`` to read, or None when it has too few letters."""
        # The classifier passes masked text: "[PHONE]" & co. are English-looking
        # words that would tilt short texts towards English.
        text = PLACEHOLDER_RE.sub(" ", text)
        if len(text) > self.max_chars:
            cut = text.rfind(" ", 0, self.max_chars)  # do not end on half a word
            text = text[: cut if cut > self.max_chars // 2 else self.max_chars]
        letters = 0
        for char in text:
            if char.isalpha():
                letters += 1
                if letters >= self.min_letters:
                    return text
        return None

    def _decide(self, values: Sequence[ConfidenceValue]) -> tuple[str, float]:
        if not values:
            return UNKNOWN, 0.0
        top = values[0]
        confidence = float(top.value)
        if confidence < self.min_confidence or confidence == 0.0:
            return UNKNOWN, confidence
        return top.language.iso_code_639_1.name.lower(), confidence

    def detect(self, text: str) -> tuple[str, float]:
        """Language code and confidence (0-1) of ``text``; ``"unknown"`` when unsure."""
        prepared = self._prepare(text)
        if prepared is None:
            return UNKNOWN, 0.0
        return self._decide(self._detector.compute_language_confidence_values(prepared))

    def detect_many(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """``detect`` for a batch, spread over all cores by lingua."""
        results: list[tuple[str, float]] = [(UNKNOWN, 0.0)] * len(texts)
        todo: list[tuple[int, str]] = []
        for i, text in enumerate(texts):
            prepared = self._prepare(text)
            if prepared is not None:
                todo.append((i, prepared))
        if not todo:
            return results
        batch = self._detector.compute_language_confidence_values_in_parallel(
            [prepared for _, prepared in todo]
        )
        for (i, _), values in zip(todo, batch, strict=True):
            results[i] = self._decide(values)
        return results
