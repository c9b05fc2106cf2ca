"""The benchmark's requests: YAML files, one per language, essential sentences in [[...]].

Each request has a subject, a body and optional attachments (name, page, text).
The loader strips the markers and keeps, per request, the essential sentences a
caseworker marked; it refuses a marked span that the splitter would not keep as
one sentence, so that recall compares like with like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.classifier.keypoints import Segment
from services.classifier.sentences import split_sentences, word_count

DATA_DIR = Path(__file__).resolve().parent
LANGUAGES = ("fr", "nl", "en")
_MARKED = re.compile(r"\[\[(.+?)\]\]", re.S)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    kind: str  # "letter" | "report"
    subject: str
    segments: list[Segment]
    essential: list[str]  # whitespace-normalised sentences

    @property
    def words(self) -> int:
        return word_count(self.subject) + sum(word_count(s.text) for s in self.segments)


def normalise(sentence: str) -> str:
    return _SPACES.sub(" ", sentence).strip()


def _unmark(text: str, origin: str) -> tuple[str, list[str]]:
    essential = [normalise(m) for m in _MARKED.findall(text)]
    for sentence in essential:
        if split_sentences(sentence) != [sentence]:
            raise ValueError(f"{origin}: marked text is not one sentence: {sentence!r}")
    return _MARKED.sub(lambda m: m[1], text), essential


def _case(raw: dict[str, Any], language: str) -> Case:
    origin = f"{language}/{raw['id']}"
    body, essential = _unmark(raw["body"], origin)
    segments = [Segment(body, "body")]
    for attachment in raw.get("attachments") or []:
        text, marked = _unmark(attachment["text"], origin)
        segments.append(Segment(text, attachment["name"], attachment.get("page")))
        essential.extend(marked)
    if not 1 <= len(essential) <= 5:
        raise ValueError(f"{origin}: {len(essential)} essential sentences, expected 1 to 5")
    return Case(raw["id"], language, raw["kind"], raw["subject"], segments, essential)


def load_cases(directory: Path = DATA_DIR) -> list[Case]:
    cases: list[Case] = []
    for language in LANGUAGES:
        raw = yaml.safe_load((directory / f"requests_{language}.yaml").read_text("utf-8"))
        cases.extend(_case(entry, language) for entry in raw)
    return cases
