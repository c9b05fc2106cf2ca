"""Duplicate and non-duplicate pairs for the related-cases benchmark (pure, seeded).

Duplicates, three families:

* ``resubmission``: the same request sent again with small edits (typos, a
  greeting added or dropped, one sentence dropped, numbers changed, "I already
  wrote" in front), from the demo corpus and the support tickets;
* ``forwarded``: a copy forwarded by someone else (a forward header, a note of
  the forwarder, sometimes every line quoted with "> ");
* ``other_words``: the same need written by another person (two requests of one
  Banking77 / CLINC150 intent): the hardest family, and arguably not always a
  duplicate.

Non-duplicates: two different requests of the same type (demo corpus) or queue
(tickets): what a duplicate search must not confuse.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path("services/classifier/data/corpus")

GREETING = {"fr": "Bonjour,", "nl": "Goedendag,", "en": "Hello,", "de": "Guten Tag,"}
CLOSING = {
    "fr": "Merci d'avance.",
    "nl": "Alvast bedankt.",
    "en": "Thanks in advance.",
    "de": "Vielen Dank im Voraus.",
}
AGAIN = {
    "fr": "Je vous ai déjà écrit la semaine passée mais je n'ai pas de réponse.",
    "nl": "Ik schreef vorige week al maar kreeg geen antwoord.",
    "en": "I already wrote last week but got no answer.",
    "de": "Ich habe letzte Woche schon geschrieben, aber keine Antwort erhalten.",
}
FORWARD_NOTE = {
    "fr": "Pour suite utile, voir la demande ci-dessous.",
    "nl": "Ter info, graag verder opvolgen.",
    "en": "Please see the request below and handle it.",
    "de": "Bitte die Anfrage unten bearbeiten.",
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Text:
    text: str
    type: str
    language: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    family: str  # resubmission | forwarded | other_words | same_type


def read_csv(path: Path) -> list[Text]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Text(row["text"].replace("\\n", "\n"), row["type"], row.get("language") or "en")
            for row in csv.DictReader(f)
            if row["text"].strip()
        ]


def _typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < 0.06:
            j = rng.randrange(len(word) - 1)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _drop_sentence(text: str, rng: random.Random) -> str:
    sentences = _SENTENCE.split(text)
    if len(sentences) < 3:
        return text
    del sentences[rng.randrange(1, len(sentences))]
    return " ".join(sentences)


def _numbers(text: str, rng: random.Random) -> str:
    return _NUMBER.sub(lambda m: str(rng.randrange(10 ** len(m.group())) or 1), text)


def resubmit(item: Text, rng: random.Random) -> str:
    """The same request sent again by its writer, with two or three small edits."""
    lang = item.language if item.language in GREETING else "en"
    edits: list[Callable[[str], str]] = [
        lambda t: _typos(t, rng),
        lambda t: _drop_sentence(t, rng),
        lambda t: _numbers(t, rng),
        lambda t: f"{GREETING[lang]}\n\n{t}\n\n{CLOSING[lang]}",
        lambda t: f"{AGAIN[lang]}\n\n{t}",
    ]
    text = item.text
    for edit in rng.sample(edits, rng.choice((2, 3))):
        text = edit(text)
    if text == item.text:  # every edit drawn was a no-op on this text (short, no digits)
        text = edits[3](text)
    return text


def forward(item: Text, rng: random.Random) -> str:
    """A copy forwarded by a colleague or a relative (the header names e-mails: masked)."""
    lang = item.language if item.language in FORWARD_NOTE else "en"
    first = item.text.strip().splitlines()[0][:60]
    body = item.text
    if rng.random() < 0.5:
        body = "\n".join(f"> {line}" for line in body.splitlines())
    sender, minute = rng.randrange(999), rng.randrange(60)
    return (
        f"{FORWARD_NOTE[lang]}\n\n---------- Forwarded message ---------\n"
        f"From: sender{sender}@example.be\nDate: 2 Dec 2026 09:{minute:02d}\n"
        f"Subject: {first}\nTo: info@example.be\n\n{body}"
    )


def _by_type(items: Iterable[Text]) -> dict[str, list[Text]]:
    out: dict[str, list[Text]] = defaultdict(list)
    for item in items:
        out[item.type].append(item)
    return out


def edited_pairs(items: list[Text], n: int, rng: random.Random) -> list[Pair]:
    chosen = rng.sample(items, min(n, len(items)))
    return [Pair(t.text, resubmit(t, rng), True, "resubmission") for t in chosen] + [
        Pair(t.text, forward(t, rng), True, "forwarded") for t in chosen
    ]


def same_need_pairs(items: list[Text], per_type: int, rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    for type_, group in sorted(_by_type(items).items()):
        if type_ == "oos" or len(group) < 2:
            continue
        for _ in range(per_type):
            a, b = rng.sample(group, 2)
            pairs.append(Pair(a.text, b.text, True, "other_words"))
    return pairs


def same_type_pairs(items: list[Text], n: int, rng: random.Random) -> list[Pair]:
    groups = [g for g in _by_type(items).values() if len(g) >= 2]
    pairs: list[Pair] = []
    while len(pairs) < n:
        a, b = rng.sample(rng.choice(groups), 2)
        if a.text != b.text:
            pairs.append(Pair(a.text, b.text, False, "same_type"))
    return pairs


def build(datasets: Path | None, seed: int = 15, scale: float = 1.0) -> list[Pair]:
    """Every pair of the benchmark; ``datasets`` is ../shared/datasets (optional)."""
    rng = random.Random(seed)
    demo = [t for lang in ("en", "fr", "nl") for t in read_csv(CORPUS / f"demo_{lang}.csv")]
    pairs = edited_pairs(demo, int(300 * scale), rng)
    pairs += same_type_pairs(demo, int(3000 * scale), rng)
    if datasets is not None and datasets.is_dir():
        tickets = read_csv(datasets / "tickets_v4.csv") + read_csv(datasets / "tickets_v5.csv")
        pairs += edited_pairs(tickets, int(150 * scale), rng)
        pairs += same_type_pairs(tickets, int(1000 * scale), rng)
        pairs += same_need_pairs(read_csv(datasets / "banking77_train.csv"), 2, rng)
        pairs += same_need_pairs(read_csv(datasets / "clinc150_train.csv"), 1, rng)
    return pairs
