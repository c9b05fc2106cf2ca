"""Benchmark requests drawn from the demo corpus and varied, deterministically.

Each request starts from a corpus row, swaps one of its sentences for a sentence
of another row with the same type and language (so it still reads like a real
request of that kind), and gets a greeting, a signature with a generated name and
a file number. Lengths stay close to the corpus's, so the embedder sees the same
kind of load as in production.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parents[2] / "services" / "classifier" / "data" / "corpus"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

GREETINGS = {
    "fr": ("Bonjour,", "Madame, Monsieur,", "Bonsoir,", ""),
    "nl": ("Goedendag,", "Beste,", "Geachte,", ""),
    "en": ("Hello,", "Dear Sir or Madam,", "Good morning,", ""),
}
SIGN_OFF = {
    "fr": ("Merci d'avance,", "Cordialement,", "Bien à vous,"),
    "nl": ("Alvast bedankt,", "Met vriendelijke groeten,", "Groeten,"),
    "en": ("Thank you,", "Kind regards,", "Best wishes,"),
}
FIRST = ("Marie", "Jan", "Fatima", "Luc", "Sofie", "Mohamed", "Anna", "Pieter", "Nadia", "Tom")
LAST = ("Dupont", "Peeters", "El Amrani", "Janssens", "Lambert", "Maes", "Diallo", "Claes")
CHANNELS = ("web", "email", "letter", "phone")


@dataclass(frozen=True)
class Row:
    text: str
    type: str
    language: str


def load_rows(folder: Path = CORPUS_DIR) -> list[Row]:
    rows: list[Row] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += [Row(r["text"], r["type"], r["language"]) for r in csv.DictReader(fh)]
    if not rows:
        raise FileNotFoundError(f"no corpus rows in {folder}")
    return rows


def vary(row: Row, peers: list[Row], rng: random.Random, number: int) -> str:
    """One varied text from ``row``; ``peers`` share its type and language."""
    sentences = _SENTENCE.split(row.text.strip())
    other = rng.choice(peers) if peers else row
    donor = _SENTENCE.split(other.text.strip())
    if len(sentences) > 1 and donor:
        sentences[rng.randrange(len(sentences))] = rng.choice(donor)
    lang = row.language if row.language in GREETINGS else "en"
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    parts = [
        rng.choice(GREETINGS[lang]),
        " ".join(sentences),
        f"{rng.choice(SIGN_OFF[lang])} {name} ({2024 + number % 3}/{10000 + number})",
    ]
    return "\n".join(p for p in parts if p)


def requests_for(tag: str, n: int, seed: int = 8) -> list[dict[str, object]]:
    """``n`` intake requests for source ``demo`` with external ids ``<tag>-<number>``."""
    rows = load_rows()
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.type, row.language)].append(row)
    rng = random.Random(f"{seed}:{tag}")
    out: list[dict[str, object]] = []
    for i in range(n):
        row = rows[rng.randrange(len(rows))]
        peers = [p for p in groups[(row.type, row.language)] if p is not row]
        out.append(
            {
                "source": "demo",
                "external_id": f"{tag}-{i:06d}",
                "channel": CHANNELS[i % len(CHANNELS)],
                "body": vary(row, peers, rng, i),
            }
        )
    return out
