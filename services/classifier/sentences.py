"""Sentence splitting for French, Dutch and English requests (pure, no model).

Requests are letters, e-mails and text extracted from PDFs, so two things matter
besides the full stop: lines and abbreviations.

* A blank line always ends a sentence. A single line break ends one only when
  the next line starts a list item, or the line before looks finished (ends with
  . ! ? : ; or is a short line such as "Madame, Monsieur,") and the next line does
  not start in lower case; otherwise it is a wrapped line of a PDF or a scan and
  is joined with a space.
* Inside a line, ``. ! ? …`` followed by a space and an upper-case letter, a
  digit or an opening quote ends a sentence, unless the word before the full
  stop is a known abbreviation ("M.", "Mme.", "Dhr.", "art.", "bijv.", "e.g.")
  or a single letter (an initial: "J. Peeters").

A rule-based splitter is enough here: the key points only need sensible units,
and pysbd/NLTK would be one more dependency for three languages with the same
punctuation rules.
"""

from __future__ import annotations

import re

# Lower-cased, without their final full stop. Words that also end sentences
# often ("etc.", "enz.") are left out on purpose: splitting there is the safer error.
ABBREVIATIONS = frozenset(
    {
        # French
        "m", "mm", "mme", "mmes", "mlle", "me", "dr", "pr", "st", "ste", "art", "al", "cf",
        "ex", "p", "pp", "n", "no", "réf", "tél", "av", "bd", "ch", "env", "éd", "p.ex",
        "c.-à-d", "c.à.d", "vol", "chap", "min", "max", "mr", "mrs", "ms", "prof",
        # Dutch
        "dhr", "mevr", "mw", "bijv", "bv", "nr", "blz", "ca", "o.a", "m.a.w", "t.a.v",
        "i.v.m", "z.g.a.n", "resp", "tel", "vnl", "d.w.z", "a.u.b", "evt", "incl", "excl",
        # English
        "e.g", "i.e", "vs", "jr", "sr", "fig", "approx", "dept", "ref",
    }
)  # fmt: skip

_BULLET = re.compile(r"^\s*(?:[-•*·–—]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_FINISHED_LINE = re.compile(r"[.!?…:;]['\"»”’)\]]*\s*$")
# A short line that stands alone: salutations, headings, addresses, signatures.
_SHORT_LINE = 45
_CANDIDATE_END = re.compile(r"[.!?…]+['\"»”’)\]]*(?=\s+['\"«“‘(]?[A-ZÀ-ÖØ-Þ0-9])")
_WORD_BEFORE = re.compile(r"([\w.\-]+)$", re.UNICODE)
_SPACES = re.compile(r"\s+")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, whitespace collapsed, empty ones dropped."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPHS.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        for line in _logical_lines(paragraph):
            sentences.extend(_split_line(line))
    return sentences


def _logical_lines(paragraph: str) -> list[str]:
    """Physical lines joined back where a line break only wrapped a sentence."""
    lines = [ln.strip() for ln in paragraph.split("\n") if ln.strip()]
    out: list[str] = []
    for line in lines:
        if out and not _BULLET.match(line) and (line[0].islower() or not _ends_line(out[-1])):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _ends_line(line: str) -> bool:
    return bool(_FINISHED_LINE.search(line)) or len(line) < _SHORT_LINE


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _CANDIDATE_END.finditer(line):
        if _is_abbreviation(line[start : match.start()], line[match.start()]):
            continue
        parts.append(line[start : match.end()])
        start = match.end()
    parts.append(line[start:])
    return [s for s in (_SPACES.sub(" ", p).strip() for p in parts) if s]


def _is_abbreviation(before: str, mark: str) -> bool:
    if mark != ".":
        return False
    found = _WORD_BEFORE.search(before)
    if found is None:
        return False
    word = found[1].lower().rstrip(".")
    if word.isdigit():
        return False
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def word_count(text: str) -> int:
    return len(text.split())
