"""Shared pytest fixtures (real broker and real PostgreSQL for the integration tiers)
and the tier markers.

Each test gets the marker of its tier from the folder it lives in, so that
``pytest -m unit`` selects exactly tests/unit and no test can sit outside a tier
(a new top-level folder fails the collection instead of being silently skipped by
every ``make`` target).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.stack"]

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "ops", "integration", "e2e", "faults")


def tier_of(path: Path) -> str:
    """The tier of the test file at ``path``: its first folder under tests/."""
    parts = path.resolve().relative_to(TESTS).parts
    tier = parts[0] if len(parts) > 1 else ""
    if tier not in TIERS:
        raise pytest.UsageError(
            f"{path}: a test file belongs in one of tests/{{{','.join(TIERS)}}}/"
        )
    return tier


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(tier_of(item.path))
