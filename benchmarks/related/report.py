"""The "Related cases" section of docs/benchmarks.md, from ``bench-related.json``."""

from __future__ import annotations

from typing import Any

SECTION = "## Related cases: duplicates and lookup time"


def markdown(r: dict[str, Any]) -> str:
    return f"{SECTION}\n\n(run `make bench-related` to fill this section)\n"
