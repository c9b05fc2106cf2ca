"""The metric-name extractor the rule and dashboard checks rely on."""

from __future__ import annotations

import pytest

from tests.ops.promql import grafana_variable_metric, metric_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (service) (rate(triage_http_requests_total{status=~"5.."}[5m]))',
         {"triage_http_requests_total"}),
        ("histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[$__rate_interval])))",
         {"x_seconds_bucket"}),
        ("a > on (priority) group_left () b:rule", {"a", "b:rule"}),
        ("sum(x) unless sum(x offset 15m)", {"x"}),
        ('label_replace(vector(1), "priority", "1", "", "") or y', {"y"}),
        ("(sum(increase(c_total[10m])) or vector(0)) == 0 and on () d > 1e3", {"c_total", "d"}),
        ('count by (version) (triage_model_info{version=~"$v"})', {"triage_model_info"}),
        ("sum without (instance) (m) / ignoring (le) n", {"m", "n"}),
    ],
)  # fmt: skip
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_grafana_label_values() -> None:
    assert grafana_variable_metric("label_values(triage_router_queue_depth_items, queue)") == (
        "triage_router_queue_depth_items"
    )
    assert grafana_variable_metric("prometheus") is None
