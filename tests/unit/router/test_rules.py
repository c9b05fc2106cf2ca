"""Routing rules: validation with clear errors, and the pure routing function."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from services.router.rules import RulesError, load_rules, parse_rules
from services.router.settings import DEFAULT_RULES

DEMO_TYPES = [
    "social_integration_income",
    "energy_aid",
    "housing",
    "urgent_medical_aid",
    "debt_mediation",
    "food_aid",
    "disability_support",
    "civil_status",
    "general_information",
]
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def rules_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_RULES.read_text())
    data.update(changes)
    return data


def test_default_rules_cover_the_demo_types_plus_review_and_fallback() -> None:
    routing = load_rules(DEFAULT_RULES)
    assert sorted(routing.types) == sorted(DEMO_TYPES)
    assert sorted(routing.queues) == sorted([*DEMO_TYPES, "review", "fallback"])


@pytest.mark.parametrize("type_", DEMO_TYPES)
def test_each_type_goes_to_its_team(type_: str) -> None:
    assert load_rules(DEFAULT_RULES).route(type_, "normal", False, MONDAY).queue == type_


def test_needs_review_goes_to_the_review_queue_with_the_urgency_priority() -> None:
    route = load_rules(DEFAULT_RULES).route("energy_aid", "critical", True, MONDAY)
    assert (route.queue, route.priority) == ("review", 1)


def test_unknown_type_goes_to_the_fallback_queue() -> None:
    assert load_rules(DEFAULT_RULES).route("parking_permit", "low", False, MONDAY).queue == (
        "fallback"
    )


@pytest.mark.parametrize(
    ("urgency", "priority", "due"),
    [
        ("critical", 1, "2025-03-10"),
        ("high", 2, "2025-03-12"),
        ("normal", 3, "2025-03-24"),
        ("low", 4, "2025-04-22"),
    ],  # low: 30 working days, Easter Monday 21 April skipped
)
def test_urgency_sets_priority_and_due_date(urgency: str, priority: int, due: str) -> None:
    route = load_rules(DEFAULT_RULES).route("housing", urgency, False, MONDAY)
    assert route.priority == priority
    local = route.due_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert (local.date().isoformat(), local.hour, local.minute) == (due, 17, 0)


def test_route_is_pure() -> None:
    routing = load_rules(DEFAULT_RULES)
    assert routing.route("food_aid", "high", False, MONDAY) == routing.route(
        "food_aid", "high", False, MONDAY
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"urgencies": {"critical": {"priority": 1, "working_days": 0}}},
            "urgencies: Value error, missing urgency level(s): high, normal, low",
        ),
        ({"types": {"energy_aid": "Energy Aid"}}, "types.energy_aid: Value error, queue name"),
        ({"types": {}}, "types: Dictionary should have at least 1 item"),
        ({"timezone": "Europe/Bruxelles"}, "timezone: Value error, unknown time zone"),
        ({"closing_time": "25:00"}, "closing_time:"),
        ({"calendar": {"country": "XX"}}, "calendar.country: Value error, no public holiday"),
        ({"calendar": {"extra_closed_days": ["15-11"]}}, "calendar.extra_closed_days"),
        ({"queue_for_review": "review"}, "queue_for_review: Extra inputs are not permitted"),
        (
            {
                "urgencies": {
                    "critical": {"priority": 0, "working_days": 0},
                    "high": {},
                    "normal": {},
                    "low": {},
                }
            },
            "urgencies.critical.priority",
        ),
    ],
)
def test_invalid_rules_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(rules_data(**changes), "rules.yaml")
    assert f"rules.yaml: {message}" in str(err.value)


def test_file_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read routing rules"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("types: [unclosed")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(bad)
    bad.write_text("- a list")
    with pytest.raises(RulesError, match="expected a mapping"):
        load_rules(bad)
