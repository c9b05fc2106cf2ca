"""Settings of related cases (``TRIAGE_ROUTER_DUPLICATE_*``): part of ``RouterSettings``.

Apart from ``related.py`` so that reading the settings imports no numpy.
"""

from __future__ import annotations

from pydantic import Field

from shared.settings import BaseTriageSettings


class RelatedSettings(BaseTriageSettings):
    router_duplicate_threshold: float = Field(
        0.915, ge=0.0, le=1.0,
        description="cosine of embeddings from which two requests are likely duplicates "
        "(chosen on the benchmark of docs/benchmarks.md)",
    )  # fmt: skip
    router_duplicate_days: int = Field(
        30, ge=1, le=3650, description="likely duplicates are searched among open items "
        "received in the last N days",
    )  # fmt: skip
    router_duplicate_max: int = Field(5, ge=1, le=50, description="likely duplicates kept per item")
    router_related_rebuild_s: float = Field(
        900.0, gt=0, description="rebuild the in-memory duplicate index this often (drops "
        "closed items)",
    )  # fmt: skip
