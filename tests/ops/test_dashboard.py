"""The Grafana dashboard: valid JSON, well-formed panels, PromQL that promtool
parses and that reads only series the services export (or our recording rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.ops import tools
from tests.fixtures.ops.dashboard import as_plain_promql, dashboard, panels, recorded, targets
from tests.fixtures.ops.metric_names import exported, exported_by
from tests.ops.promql import grafana_variable_metric, metric_names

SECTIONS = ("flow", "lag", "latency", "queue", "classification", "dead letter")


def test_dashboard_shape() -> None:
    data = dashboard()
    assert data["uid"] and data["title"] and data["schemaVersion"] >= 36
    variables = {v["name"]: v for v in data["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in data["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
    rows = " ".join(p["title"].lower() for p in data["panels"] if p["type"] == "row")
    for section in SECTIONS:
        assert section in rows, f"no row about {section}"


@pytest.mark.parametrize("panel", panels(), ids=lambda p: p["title"])
def test_panel_queries_the_templated_datasource(panel: dict[str, Any]) -> None:
    assert panel["datasource"]["uid"] == "${datasource}"
    assert panel["targets"], "a panel without a query"
    for target in panel["targets"]:
        assert target["expr"].strip() and target["refId"]


@pytest.mark.parametrize(("where", "expr"), targets(), ids=[w for w, _ in targets()])
def test_query_reads_only_exported_series(where: str, expr: str) -> None:
    unknown = metric_names(expr) - exported() - recorded()
    assert not unknown, f"{where} reads series no service exports: {unknown}"


def test_variables_read_exported_series() -> None:
    for variable in dashboard()["templating"]["list"]:
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        metric = grafana_variable_metric(query or "")
        if variable["type"] == "query":
            assert metric in exported(), variable["name"]


def test_every_service_is_on_the_dashboard() -> None:
    used = set().union(*(metric_names(expr) for _, expr in targets()))
    for service in ("ingest", "classifier", "router"):
        own = {n for n in exported_by(service) if n.startswith(f"triage_{service}_")}
        assert used & own, f"no panel shows a metric of {service}"


def test_promtool_parses_every_query(tmp_path: Path) -> None:
    # promtool has no "check this expression" command: wrap each query in a rule.
    rules = [
        {"record": f"dashboard:query_{i}", "expr": as_plain_promql(expr)}
        for i, (_, expr) in enumerate(targets())
    ]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = tools.run([tools.promtool(), "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
