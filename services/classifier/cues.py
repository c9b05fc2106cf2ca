"""Urgency cues: a multilingual lexicon of situations that force a minimum urgency.

The lexicon lives in ``data/urgency_cues.yaml`` (its header documents the term
syntax). All terms of all cues are compiled into one regex matched against an
accent- and case-folded copy of the text, so finding cues costs one regex scan
whatever the size of the lexicon. Offsets are mapped back to the original text.

A cue can raise the model's urgency, never lower it (``raise_urgency``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from shared import pii
from shared.events import DEFAULT_URGENCY, URGENCY_ORDER, Urgency

logger = logging.getLogger(__name__)

# A cue forces a level above the default: one that merely said "normal" would change nothing.
LEVELS: tuple[Urgency, ...] = tuple(
    level for level in Urgency if URGENCY_ORDER[level] < URGENCY_ORDER[DEFAULT_URGENCY]
)
LANGUAGES = frozenset({"fr", "nl", "en", "de"})
SNIPPET_CONTEXT = 40  # characters of context on each side of a match

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_APOSTROPHES = "'’ʼ`"
_WS_RE = re.compile(r"\s+")


class LexiconError(ValueError):
    """The cue file is malformed; the message names the file, the cue and the problem."""


@dataclass(frozen=True, slots=True)
class Cue:
    id: str
    level: Urgency
    terms: tuple[str, ...]  # as written in the file, all languages


@dataclass(frozen=True, slots=True)
class CueMatch:
    """One occurrence of a cue term; ``snippet`` is masked context, safe to store."""

    cue_id: str
    level: Urgency
    start: int
    end: int
    term: str  # the lexicon term that matched (from the file, not from the text)
    snippet: str

    @property
    def cue(self) -> str:
        """Alias of ``cue_id``, the name used by ``shared.events.CueHit``."""
        return self.cue_id


# --- accent/case folding with offsets ------------------------------------------


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on demand; remembers chars that do not fold 1:1."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(folded) != 1:
            self.irregular.add(chr(code))
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lowercase ``text`` and strip its accents ("Électricité" -> "electricite")."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def _fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Folded text and, when lengths differ, the source index of each folded char.

    The offsets list has one extra entry (``len(text)``) so that an end offset
    maps directly; ``None`` means folded and original positions coincide.
    """
    folded = fold(text)
    if text.isascii() or _FOLD.irregular.isdisjoint(text):
        return folded, None
    pieces: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(text):
        piece = _FOLD[ord(char)]
        pieces.append(piece)
        offsets.extend([i] * len(piece))
    offsets.append(len(text))
    return "".join(pieces), offsets


# --- term syntax -> regex -----------------------------------------------------

_GROUP_RE = re.compile(r"\(([^(){}]*)\)|\{([^(){}]*)\}")
_SPLIT_RE = re.compile(rf"([\s\-]+|[{_APOSTROPHES}])")
_SPACING_RE = re.compile(r"[\s\-]+")


def _literal(part: str, term: str) -> str:
    if any(c in part for c in "(){}|"):
        raise ValueError(f"unbalanced or nested group in {term!r}")
    out: list[str] = []
    for chunk in _SPLIT_RE.split(part):
        if not chunk:
            continue
        if chunk in _APOSTROPHES:
            out.append(rf"[{_APOSTROPHES}]\s*")
        elif _SPACING_RE.fullmatch(chunk):
            out.append(r"[\s\-]+")
        else:
            out.append(re.escape(chunk))
    return "".join(out)


def term_pattern(term: str) -> str:
    """Regex (over folded text) for one lexicon term; see the yaml header for the syntax."""
    folded = fold(term.strip())
    parts: list[str] = []
    pos = 0
    for m in _GROUP_RE.finditer(folded):
        parts.append(_literal(folded[pos : m.start()], term))
        optional = m.group(1) is not None
        alternatives = (m.group(1) if optional else m.group(2)).split("|")
        if any(not a.strip() for a in alternatives):
            raise ValueError(f"empty alternative in {term!r}")
        group = "(?:" + "|".join(_literal(a, term) for a in alternatives) + ")"
        parts.append(group + "?" if optional else group)
        pos = m.end()
    parts.append(_literal(folded[pos:], term))
    pattern = "".join(parts)
    if re.fullmatch(pattern, "") is not None or re.fullmatch(r"[\s\-]*", folded):
        raise ValueError(f"term {term!r} can match an empty text")
    return pattern


def first_chars(term: str) -> frozenset[str]:
    """Folded characters a match of ``term`` can start with (used to index terms)."""
    folded = fold(term.strip())
    m = _GROUP_RE.match(folded)
    if m is None:
        return frozenset(_APOSTROPHES) if folded[0] in _APOSTROPHES else frozenset(folded[0])
    optional = m.group(1) is not None
    alternatives = (m.group(1) if optional else m.group(2)).split("|")
    chars = frozenset().union(*(first_chars(a) for a in alternatives if a.strip()))
    rest = folded[m.end() :]
    return chars | first_chars(rest) if optional and rest.strip() else chars


# --- loading and validation ---------------------------------------------------


def _fail(source: str, where: str, problem: str) -> LexiconError:
    return LexiconError(f"{source}: {where}: {problem}")


def _parse_terms(source: str, where: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise _fail(source, where, "'terms' must be a non-empty mapping language -> list")
    terms: list[str] = []
    for lang, items in raw.items():
        if lang not in LANGUAGES:
            raise _fail(source, where, f"unknown language {lang!r} (expected {sorted(LANGUAGES)})")
        if not isinstance(items, list) or not items:
            raise _fail(source, where, f"terms for {lang!r} must be a non-empty list")
        for item in items:
            if not isinstance(item, str) or not item.strip():
                hint = " (quote terms that start with '{')" if isinstance(item, dict) else ""
                raise _fail(source, where, f"bad term {item!r} for {lang!r}{hint}")
            terms.append(item.strip())
    return tuple(dict.fromkeys(terms))  # same term in two languages: keep one


def _parse_cue(source: str, index: int, raw: Any) -> Cue:
    where = f"cue #{index + 1}"
    if not isinstance(raw, Mapping):
        raise _fail(source, where, "must be a mapping with id, level, terms")
    cue_id = raw.get("id")
    if not isinstance(cue_id, str) or not _ID_RE.match(cue_id):
        raise _fail(source, where, f"id {cue_id!r} must be lowercase snake_case")
    where = f"cue #{index + 1} {cue_id!r}"
    unknown = set(raw) - {"id", "level", "terms"}
    if unknown:
        raise _fail(source, where, f"unknown field(s) {sorted(unknown)}")
    level = raw.get("level")
    if level not in LEVELS:
        expected = " or ".join(LEVELS)
        raise _fail(source, where, f"unknown level {level!r} (expected {expected})")
    return Cue(cue_id, Urgency(level), _parse_terms(source, where, raw.get("terms")))


def parse_lexicon(data: Any, source: str = "<lexicon>") -> list[Cue]:
    """Validate the yaml structure; raise LexiconError with a precise message."""
    if not isinstance(data, Mapping) or not isinstance(data.get("cues"), list):
        raise _fail(source, "top level", "expected a mapping with a 'cues' list")
    if not data["cues"]:
        raise _fail(source, "top level", "'cues' is empty")
    cues = [_parse_cue(source, i, raw) for i, raw in enumerate(data["cues"])]
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    for cue in cues:
        if cue.id in seen_ids:
            raise _fail(source, f"cue {cue.id!r}", "duplicate id")
        seen_ids.add(cue.id)
        for term in cue.terms:
            key = _WS_RE.sub(" ", fold(term))
            if owner.setdefault(key, cue.id) != cue.id:
                raise _fail(source, f"cue {cue.id!r}", f"term {term!r} is also in {owner[key]!r}")
    return cues


# --- the lexicon --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bucket:
    """The terms that can start with one character, compiled together."""

    regex: re.Pattern[str]
    entries: tuple[tuple[Cue, str], ...]  # (cue, term) of capture group i + 1


def _compile_bucket(entries: list[tuple[str, Cue, str]]) -> _Bucket:
    # At one position the first alternative that matches wins: longer terms go
    # first so that "urgence médicale" (critical) beats "urgence" (high).
    ordered = sorted(entries, key=lambda e: (-len(fold(e[2])), e[2]))
    alternation = "|".join(f"({pattern})" for pattern, _, _ in ordered)
    return _Bucket(re.compile(rf"(?:{alternation})(?!\w)"), tuple((c, t) for _, c, t in ordered))


class CueLexicon:
    """Compiled lexicon. Build with ``CueLexicon.load()``; ``find`` is thread-safe.

    Terms are compiled into one regex per first character: a flat alternation
    of ~300 terms costs ~10 ms per 2,000 characters because the engine tries
    every term at every word start, while jumping from word start to word start
    and trying only the terms that can begin there costs ~0.3 ms.
    """

    def __init__(self, cues: Iterable[Cue], source: str = "<lexicon>") -> None:
        self.cues = tuple(cues)
        self.source = source
        grouped: dict[str, list[tuple[str, Cue, str]]] = {}
        for cue in self.cues:
            for term in cue.terms:
                try:
                    pattern, starts = term_pattern(term), first_chars(term)
                except ValueError as exc:
                    raise _fail(source, f"cue {cue.id!r}", str(exc)) from exc
                if not all(c.isalnum() for c in starts):
                    problem = f"term {term!r} must start with a letter or digit"
                    raise _fail(source, f"cue {cue.id!r}", problem)
                for char in starts:
                    grouped.setdefault(char, []).append((pattern, cue, term))
        self._buckets = {char: _compile_bucket(e) for char, e in grouped.items()}
        starts_class = re.escape("".join(sorted(grouped)))
        self._word_starts = re.compile(rf"(?<!\w)[{starts_class}]")

    @classmethod
    def load(cls, path: str | Path | None = None) -> CueLexicon:
        """Read and compile the lexicon (default: the packaged urgency_cues.yaml)."""
        if path is None:
            resource = resources.files("services.classifier") / "data" / "urgency_cues.yaml"
            source, text = "urgency_cues.yaml", resource.read_text(encoding="utf-8")
        else:
            source, text = str(path), Path(path).read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{source}: invalid YAML: {exc}") from exc
        lexicon = cls(parse_lexicon(data, source), source)
        logger.info("loaded %d urgency cues from %s", len(lexicon.cues), source)
        return lexicon

    def find(self, text: str) -> list[CueMatch]:
        """All cue occurrences in ``text``, left to right, with masked snippets."""
        folded, offsets = _fold_with_offsets(text)
        found: list[tuple[int, int, Cue, str]] = []
        pos = 0
        for word in self._word_starts.finditer(folded):
            if word.start() < pos:
                continue  # inside the previous match: matches do not overlap
            bucket = self._buckets[word.group()]
            m = bucket.regex.match(folded, word.start())
            if m is None:
                continue
            pos = m.end()
            start, end = (offsets[m.start()], offsets[pos]) if offsets else m.span()
            cue, term = bucket.entries[(m.lastindex or 1) - 1]
            found.append((start, end, cue, term))
        if not found:
            return []
        spans = pii.find(text)  # once per text, shared by all snippets
        return [
            CueMatch(cue.id, cue.level, start, end, term, _snippet(text, start, end, spans))
            for start, end, cue, term in found
        ]


def _snippet(text: str, start: int, end: int, spans: list[pii.PiiSpan]) -> str:
    """Up to SNIPPET_CONTEXT chars each side, never cutting an identifier, masked."""
    left, right = max(0, start - SNIPPET_CONTEXT), min(len(text), end + SNIPPET_CONTEXT)
    # Cut at word boundaries so that the context does not start or end mid-word.
    if left > 0 and (gap := _WS_RE.search(text, left, start)) is not None:
        left = gap.end()
    if right < len(text):
        right = max((i for i in range(end, right) if text[i].isspace()), default=right)
    for span in spans:  # widen so that an identifier is masked whole, not half-shown
        if span.start < left < span.end:
            left = span.start
        if span.start < right < span.end:
            right = span.end
    window = pii.replace_spans(text[left:right], spans, offset=left)
    snippet = _WS_RE.sub(" ", window).strip()
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")


def raise_urgency(model_urgency: str, matches: Iterable[CueMatch]) -> Urgency:
    """The higher of the model's urgency and the cue levels (order: ``shared.events.Urgency``)."""
    if model_urgency not in URGENCY_ORDER:
        raise ValueError(f"unknown urgency {model_urgency!r}")
    best = Urgency(model_urgency)
    for match in matches:
        if URGENCY_ORDER[match.level] < URGENCY_ORDER[best]:  # rank 0 is the most urgent
            best = Urgency(match.level)
    return best
