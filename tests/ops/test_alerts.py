"""Alert rules: promtool accepts them, promtool's unit tests pass, every alert is
documented and tested, and every series a rule reads is one a service exports."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.fixtures.ops import tools
from tests.fixtures.ops.metric_names import exported
from tests.ops.promql import metric_names

# What the issue asks to be woken for, one alert (at least) each.
REQUIRED = {
    "TriagePipelineStalled", "TriageConsumerLagHigh", "TriageDeadLetters",
    "TriageCriticalItemsPastDue", "TriageItemsPastDue", "TriageQueueOldestOverSLA",
    "TriageServiceDown", "TriageHttpErrorRateHigh",
}  # fmt: skip


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(tools.ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def test_promtool_check_rules() -> None:
    result = tools.run([tools.promtool(), "check", "rules", str(tools.ALERTS)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests() -> None:
    result = tools.run([tools.promtool(), "test", "rules", str(tools.ALERT_TESTS)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_required_alerts_exist() -> None:
    assert {a["alert"] for a in _alerts()} >= REQUIRED


@pytest.mark.parametrize("alert", _alerts(), ids=lambda a: a["alert"])
def test_alert_is_labelled_and_documented(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}
    annotations = alert["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    anchor = annotations["runbook_url"].partition("#")[2]
    assert anchor == alert["alert"].lower()
    headings = re.findall(r"^#{2,4} +(.+?) *$", tools.OPERATIONS_DOC.read_text(), re.MULTILINE)
    assert anchor in {_slug(h) for h in headings}, f"no runbook section for {alert['alert']}"


def _slug(heading: str) -> str:
    # GitHub's anchor rule for the headings we write: lower case, spaces to dashes.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_shown_firing_in_a_promtool_test() -> None:
    tests = yaml.safe_load(tools.ALERT_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {a["alert"] for a in _alerts()} <= firing


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.get("alert") or r["record"])
def test_rule_reads_only_exported_series(rule: dict[str, Any]) -> None:
    recorded = {r["record"] for r in _rules() if "record" in r}
    unknown = metric_names(rule["expr"]) - exported() - recorded
    assert not unknown, f"{rule.get('alert') or rule['record']} reads unexported {unknown}"


def test_generated_monitoring_manifests_are_up_to_date() -> None:
    result = tools.run([tools.sys.executable, str(tools.DEPLOY / "generate.py"), "--check"])
    assert result.returncode == 0, result.stdout + result.stderr
