"""Small, deterministic, obviously fake labelled cases for tests and smoke checks.

Each type has its own keywords in French, Dutch and English, so a model can
learn it from a few dozen rows; urgency follows a keyword too. Nothing here is
realistic: the demo corpus is what the default model trains on.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

KEYWORDS: dict[str, dict[str, list[str]]] = {
    "energy_aid": {
        "fr": ["électricité", "gaz", "compteur", "facture", "chauffage"],
        "nl": ["elektriciteit", "gas", "meter", "factuur", "verwarming"],
        "en": ["electricity", "gas", "meter", "bill", "heating"],
    },
    "housing": {
        "fr": ["loyer", "propriétaire", "logement", "bail", "appartement"],
        "nl": ["huur", "huisbaas", "woning", "huurcontract", "appartement"],
        "en": ["rent", "landlord", "housing", "lease", "flat"],
    },
    "food_aid": {
        "fr": ["colis", "épicerie", "repas", "manger", "nourriture"],
        "nl": ["voedselpakket", "sociale", "kruidenier", "maaltijd", "eten"],
        "en": ["parcel", "grocery", "meal", "food", "pantry"],
    },
}
URGENCY_WORDS: dict[str, dict[str, str]] = {
    "critical": {"fr": "aujourd'hui", "nl": "vandaag", "en": "today"},
    "high": {"fr": "semaine", "nl": "week", "en": "week"},
    "normal": {"fr": "bientôt", "nl": "binnenkort", "en": "soon"},
    "low": {"fr": "information", "nl": "informatie", "en": "information"},
}
FILLER = {
    "fr": ["bonjour", "je", "voudrais", "aide", "merci", "pour", "ma", "famille", "demande"],
    "nl": ["goedendag", "ik", "wil", "hulp", "dank", "voor", "mijn", "gezin", "vraag"],
    "en": ["hello", "i", "would", "like", "help", "thanks", "for", "my", "family", "request"],
}


def make_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        type_ = list(KEYWORDS)[i % len(KEYWORDS)]
        urgency = list(URGENCY_WORDS)[(i // len(KEYWORDS)) % len(URGENCY_WORDS)]
        lang = ("fr", "nl", "en")[rng.randrange(3)]
        words = rng.choices(KEYWORDS[type_][lang], k=3) + rng.choices(FILLER[lang], k=5)
        words.append(URGENCY_WORDS[urgency][lang])
        rng.shuffle(words)
        rows.append(
            {
                "id": f"case-{i:04d}",
                "text": " ".join(words),
                "type": type_,
                "urgency": urgency,
                "language": lang,
            }
        )
    return rows


def write_csv(path: Path, n: int, seed: int = 0) -> Path:
    rows = make_rows(n, seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "type", "urgency", "language"])
        writer.writeheader()
        writer.writerows(rows)
    return path
