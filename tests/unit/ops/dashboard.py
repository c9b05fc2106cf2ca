"""Reading the Grafana dashboard and the recording rules its queries may use."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tests.unit.ops import tools


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(tools.DASHBOARD.read_text())
    return data


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def targets() -> list[tuple[str, str]]:
    """(panel title / refId, expr) of every query of the dashboard."""
    return [(f"{p['title']} / {t['refId']}", t["expr"]) for p in panels() for t in p["targets"]]


def recorded() -> set[str]:
    """Names of the recording rules shipped with the alerts (deploy/prometheus/alerts.yml)."""
    groups = yaml.safe_load(tools.ALERTS.read_text())["groups"]
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def as_plain_promql(expr: str) -> str:
    """Grafana's variables replaced by what they stand for in a plain query."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
    return re.sub(r"\$\{?\w+\}?", ".*", expr)
