"""Accuracy over time: how often the model's prediction matched the human-final label
(corrected or confirmed), per model version, per week, per type. Pure: rows in, rows out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def agreement(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The API's body from ``model_agreement`` rows: the weekly cells and, per version,
    the totals over the period."""
    cells: list[dict[str, Any]] = []
    totals: dict[str, list[int]] = {}
    for row in rows:
        labelled, type_ok, urgency_ok = row["labelled"], row["type_agreed"], row["urgency_agreed"]
        cells.append({
            "model_version": row["model_version"],
            "week": row["week"].date().isoformat(),
            "type": row["type"],
            "labelled": labelled,
            "type_agreement": _ratio(type_ok, labelled),
            "urgency_agreement": _ratio(urgency_ok, labelled),
        })  # fmt: skip
        total = totals.setdefault(row["model_version"], [0, 0, 0])
        total[0] += labelled
        total[1] += type_ok
        total[2] += urgency_ok
    versions = [
        {"model_version": version, "labelled": n,
         "type_agreement": _ratio(t, n), "urgency_agreement": _ratio(u, n)}
        for version, (n, t, u) in sorted(totals.items())
    ]  # fmt: skip
    return {"versions": versions, "weeks": cells}
