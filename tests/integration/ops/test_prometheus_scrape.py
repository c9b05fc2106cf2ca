"""A real Prometheus scrapes the running pipeline while requests flow through it.

Broker (tansu), PostgreSQL, ingest, classifier and router run as real processes;
Debian's Prometheus scrapes them every second with the shipped alert rules
loaded. Requests go in through ingest; the tests then ask Prometheus's HTTP API
what it saw: counters, latency histograms, queue gauges, lag, rule health, and
that every dashboard query runs. Adding a service is one entry in SERVICES.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from shared.auth import hash_secret
from stack.postgres import PostgresServer
from tests.fixtures.ops import tools
from tests.fixtures.ops.dashboard import as_plain_promql, targets
from tests.fixtures.ops.k8s import rendered
from tests.fixtures.ops.metric_names import exported
from tests.fixtures.services import service_process
from tests.integration.ops.prometheus import Prometheus, prometheus, scrape_config

SERVICES = ("ingest", "classifier", "router")
READY_TIMEOUT = {"ingest": 60.0, "classifier": 300.0, "router": 60.0}
API_KEY = "ops-test-key"
SINGLE, BATCH, INVALID = 5, 15, 2
ACCEPTED = SINGLE + BATCH
TEXTS = [
    ("Coupure", "Mon fournisseur va couper l'électricité demain, je ne peux pas payer."),
    ("Huurachterstand", "Ik heb drie maanden huurachterstand en vrees een uithuiszetting."),
    ("Opening hours", "When is the social service open on Saturdays?"),
    ("Aide alimentaire", "Nous n'avons plus rien à manger cette semaine pour les enfants."),
]  # fmt: skip


@dataclass
class Pipeline:
    prom: Prometheus
    urls: dict[str, str]
    groups: dict[str, str]


def _request(i: int) -> dict[str, object]:
    subject, body = TEXTS[i % len(TEXTS)]
    return {"source": "ops", "external_id": f"ops-{i}", "channel": "web",
            "subject": subject, "body": body}  # fmt: skip


def _send(ingest_url: str) -> None:
    """ACCEPTED good requests (singles and one batch), INVALID bad ones, one bad key."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=ingest_url, headers=headers, timeout=30) as client:
        for i in range(SINGLE):
            assert client.post("/v1/requests", json=_request(i)).status_code == 202
        batch = {"requests": [_request(SINGLE + i) for i in range(BATCH)]}
        response = client.post("/v1/requests:batch", json=batch)
        assert response.status_code == 200 and response.json()["accepted"] == BATCH
        for i in range(INVALID):
            bad = {k: v for k, v in _request(100 + i).items() if k != "body"}
            assert client.post("/v1/requests", json=bad).status_code == 422
        wrong = {"Authorization": "Bearer not-a-key"}
        assert client.post("/v1/requests", json=_request(0), headers=wrong).status_code == 401


def _database(pg_server: PostgresServer | None) -> tuple[str, str]:
    """A fresh database: (admin DSN, DSN of the new database)."""
    import asyncpg

    admin = pg_server.dsn if pg_server else os.environ["TRIAGE_DATABASE_URL"]
    name = f"ops_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return admin, urlsplit(admin)._replace(path=f"/{name}").geturl()


def _drop(admin: str, dsn: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(dsn).path[1:]}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def _env(bootstrap: str, dsn: str, suffix: str) -> dict[str, str]:
    return {
        "TRIAGE_KAFKA_BOOTSTRAP": bootstrap,
        "TRIAGE_DATABASE_URL": dsn,
        "TRIAGE_INGEST_API_KEYS": json.dumps({"ops": hash_secret(API_KEY)}),
        "TRIAGE_TOPIC_RECEIVED": f"ops.{suffix}.received",
        "TRIAGE_TOPIC_CLASSIFIED": f"ops.{suffix}.classified",
        "TRIAGE_TOPIC_DEADLETTER": f"ops.{suffix}.deadletter",
        "TRIAGE_CLASSIFIER_GROUP_ID": f"ops-{suffix}-classifier",
        "TRIAGE_ROUTER_GROUP": f"ops-{suffix}-router",
        "TRIAGE_CLASSIFIER_LAG_INTERVAL_S": "1",
        "TRIAGE_ROUTER_METRICS_REFRESH_S": "1",
    }


@pytest.fixture(scope="module")
def pipeline(
    kafka_bootstrap: str, pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("ops")
    suffix = uuid.uuid4().hex[:8]
    admin, dsn = _database(pg_server)
    env = _env(kafka_bootstrap, dsn, suffix)
    try:
        subprocess.run([sys.executable, "-m", "triage.cli", "migrate"],
                       env={**os.environ, **env}, check=True, capture_output=True)  # fmt: skip
        with ExitStack() as stack:
            urls = {
                name: stack.enter_context(
                    service_process(name, env, workdir, ready_timeout=READY_TIMEOUT[name])
                )
                for name in SERVICES
            }
            config = scrape_config({f"triage-{n}": u for n, u in urls.items()}, [tools.ALERTS])
            prom = stack.enter_context(prometheus(config, workdir / "prometheus"))
            prom.wait_for('count(up{job=~"triage-.*"} == 1)', lambda v: v == len(SERVICES), 30)
            _send(urls["ingest"])
            # Every request through the whole pipeline and scraped since: the
            # counters below are final (gauges refresh on their own period).
            created = "sum(triage_router_work_items_created_total)"
            prom.wait_for(created, lambda v: v == ACCEPTED, 240)
            time.sleep(2)
            groups = {"classifier": env["TRIAGE_CLASSIFIER_GROUP_ID"],
                      "router": env["TRIAGE_ROUTER_GROUP"]}  # fmt: skip
            yield Pipeline(prom, urls, groups)
    finally:
        _drop(admin, dsn)


def test_every_service_is_scraped(pipeline: Pipeline) -> None:
    targets = pipeline.prom.api("targets")["activeTargets"]
    assert sorted(t["labels"]["job"] for t in targets) == sorted(f"triage-{s}" for s in SERVICES)
    assert all(t["health"] == "up" for t in targets), targets


def test_ingest_counters_and_publish_latency(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    outcome = 'sum(triage_ingest_requests_total{{job="triage-ingest",outcome="{}"}})'
    prom.wait_for(outcome.format("accepted"), lambda v: v == ACCEPTED, 30)
    assert prom.scalar(outcome.format("validation_failed")) == INVALID
    assert prom.scalar(outcome.format("unauthorized")) == 1
    assert prom.scalar("sum(triage_ingest_publish_duration_seconds_count)") == ACCEPTED
    p99 = prom.scalar(
        "histogram_quantile(0.99, sum by (le) (triage_ingest_publish_duration_seconds_bucket))"
    )
    assert p99 is not None and 0 < p99 <= 5


def test_http_red_metrics(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    by_status = 'sum(triage_http_requests_total{{service="ingest",route="{}",status="{}"}})'
    assert prom.scalar(by_status.format("/v1/requests", "202")) == SINGLE
    assert prom.scalar(by_status.format("/v1/requests", "422")) == INVALID
    assert prom.scalar(by_status.format("/v1/requests", "401")) == 1
    assert prom.scalar(by_status.format("/v1/requests:batch", "200")) == 1
    count = 'sum(triage_http_request_duration_seconds_count{service="ingest",route="/v1/requests"})'
    assert prom.scalar(count) == SINGLE + INVALID + 1
    p50 = prom.scalar(
        "histogram_quantile(0.5, sum by (le) "
        '(triage_http_request_duration_seconds_bucket{service="ingest",route="/v1/requests"}))'
    )
    assert p50 is not None and p50 > 0


def test_classifier_metrics(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    prom.wait_for("sum(triage_classifier_results_total)", lambda v: v == ACCEPTED, 180)
    ok = 'sum(triage_consumer_messages_total{service="classifier",outcome="ok"})'
    assert (prom.scalar(ok) or 0) >= ACCEPTED  # at-least-once: a redelivery may add
    assert prom.scalar("sum(triage_classifier_type_confidence_count)") == ACCEPTED
    assert (prom.scalar("sum(triage_classifier_inference_seconds_count)") or 0) >= 1
    assert prom.scalar('count(triage_model_info{job="triage-classifier"})') == 1


def test_router_queues_and_end_to_end_latency(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    prom.wait_for("sum(triage_router_work_items_created_total)", lambda v: v == ACCEPTED, 180)
    assert prom.scalar("sum(triage_router_queue_latency_seconds_count)") == ACCEPTED
    p95 = prom.scalar(
        "histogram_quantile(0.95, sum by (le) (triage_router_queue_latency_seconds_bucket))"
    )
    assert p95 is not None and 0 < p95 < 120
    waiting = 'sum(triage_router_queue_depth_items{status="waiting"})'
    prom.wait_for(waiting, lambda v: v == ACCEPTED, 30)
    oldest = prom.scalar("max(triage_router_queue_oldest_waiting_age_seconds)")
    assert oldest is not None and oldest > 0


def test_consumer_lag_drains_to_zero(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    prom.wait_for("sum(triage_router_work_items_created_total)", lambda v: v == ACCEPTED, 180)
    for group in pipeline.groups.values():
        lag = f'sum(triage_consumer_lag_messages{{group="{group}"}})'
        prom.wait_for(lag, lambda v: v == 0, 60)


def test_alert_rules_evaluate_cleanly_and_stay_quiet(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    prom.wait_for("sum(triage_router_work_items_created_total)", lambda v: v == ACCEPTED, 180)
    prom.wait_for("count(triage:queue_wait_budget_seconds)", lambda v: v == 4, 30)
    rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
    assert rules and all(r["health"] == "ok" for r in rules), [
        (r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"
    ]
    firing = [a for a in prom.api("alerts")["alerts"] if a["state"] == "firing"]
    assert not firing, firing


def test_every_dashboard_query_runs(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    prom.wait_for("sum(triage_router_work_items_created_total)", lambda v: v == ACCEPTED, 180)
    with_data: set[str] = set()
    for where, expr in targets():
        result = prom.api("query", query=as_plain_promql(expr))  # asserts status success
        if result["result"]:
            with_data.add(where.partition(" / ")[0])
    # Series that only exist once agents work (claims, corrections) or things go
    # wrong (dead letters) may be empty here; the flow must show.
    needed_panels = {
        "Flow per stage", "End-to-end latency received → queued", "Waiting items by queue",
        "Classified by type", "Lag by consumer group", "Ingest publish latency (broker ack)",
        "HTTP latency by service", "Oldest waiting item by queue and priority",
    }  # fmt: skip
    assert needed_panels <= with_data, needed_panels - with_data


def test_scraped_names_are_the_exported_names(pipeline: Pipeline) -> None:
    # Closes the loop on the unit tier: the names it reads in-process are the
    # names a real scrape yields.
    names = set(pipeline.prom.api("label/__name__/values"))
    scraped = {n for n in names if n.startswith("triage_")}
    assert scraped and scraped <= exported(), scraped - exported()


def test_memory_fits_the_kubernetes_limits(pipeline: Pipeline) -> None:
    prom = pipeline.prom
    deployments = {o["metadata"]["name"]: o for o in rendered("base") if o["kind"] == "Deployment"}
    over = []
    for service in SERVICES:
        peak = f'max_over_time(process_resident_memory_bytes{{job="triage-{service}"}}[10m])'
        rss = prom.scalar(peak)
        assert rss is not None, service
        container = deployments[f"triage-{service}"]["spec"]["template"]["spec"]["containers"][0]
        limit = _bytes(container["resources"]["limits"]["memory"])
        print(f"{service}: peak RSS {rss / 2**20:.0f} MiB, limit {limit / 2**20:.0f} MiB")
        if rss > 0.8 * limit:
            over.append(service)
    assert not over, f"peak RSS above 80% of the memory limit: {over}"


def _bytes(quantity: str) -> int:
    factors = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(float(quantity[:-2]) * factors[quantity[-2:]])
