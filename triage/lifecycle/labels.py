"""Human labels (corrections and confirmations) as training and held-out cases.

The held-out cases are the most recent human labels: the candidate never trains
on them, and both the candidate and the active model are scored on them, so the
comparison is on the cases the service sees now, judged by people.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.classifier.training.data import CaseSet
from services.router.export import case_text
from shared.pii import mask


@dataclass(frozen=True)
class Labelled:
    id: str
    text: str  # masked
    type: str
    urgency: str
    language: str
    model_version: str
    labelled_at: datetime


def labelled(row: Mapping[str, Any]) -> Labelled:
    return Labelled(
        id=str(row["request_id"]),
        text=mask(case_text(row["subject"], row["body"], row["attachments"])),
        type=row["type"],
        urgency=row["urgency"],
        language=row["language"],
        model_version=row["model_version"],
        labelled_at=row["labelled_at"],
    )


async def fetch_labels(conn: asyncpg.Connection, query: str, since: datetime) -> list[Labelled]:
    """Every human-labelled item since ``since``, oldest label first."""
    rows = [labelled(r) for r in await conn.fetch(query, since)]
    return [r for r in rows if r.text]


def split_holdout(
    cases: Sequence[Labelled], fraction: float
) -> tuple[list[Labelled], list[Labelled]]:
    """(train, held out): the most recent ``fraction`` (rounded up) is held out.

    ``cases`` are oldest first. With a single label there is nothing left to train
    on from the labels, which is fine: the base training set remains.
    """
    held = min(len(cases), math.ceil(len(cases) * fraction))
    cut = len(cases) - held
    return list(cases[:cut]), list(cases[cut:])


def case_set(cases: Sequence[Labelled], source: str) -> CaseSet:
    """A CaseSet (the training code's input) with a fingerprint of its content."""
    content = json.dumps(
        [[c.id, c.text, c.type, c.urgency, c.language] for c in cases], ensure_ascii=False
    )
    return CaseSet(
        source=source,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        ids=[c.id for c in cases],
        texts=[c.text for c in cases],
        types=[c.type for c in cases],
        urgencies=[c.urgency for c in cases],
        languages=[c.language for c in cases],
    )
