"""`make run PROMETHEUS=1`: the local Prometheus's configuration (pure)."""

from __future__ import annotations

import pytest

from stack.prometheus import ALERTS, config

pytestmark = pytest.mark.unit


def test_scrapes_each_service_as_its_cluster_job_with_the_alert_rules() -> None:
    cfg = config({"router": "http://127.0.0.1:8003", "ingest": "http://127.0.0.1:8001"}, [ALERTS])
    assert cfg["rule_files"] == [str(ALERTS)] and ALERTS.exists()
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in cfg["scrape_configs"]}
    assert jobs == {"triage-router": ["127.0.0.1:8003"], "triage-ingest": ["127.0.0.1:8001"]}
