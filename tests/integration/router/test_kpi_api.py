"""GET /v1/kpis and GET /v1/queues/{queue}/forecast through the app (issue 17)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.router.app import create_app
from services.router.kpi_store import insert_history, load_kpi_queries, refresh_all
from services.router.rules import Routing
from shared.auth import hash_secret
from tests.integration.router.conftest import USERS, auth, router_settings
from tests.integration.router.test_kpis import HISTORY, item

pytestmark = pytest.mark.integration

WEEK = {"from": "2025-11-10", "to": "2025-11-16"}
MIA = {"Authorization": "Bearer mia-token"}  # a manager of the housing queue only


@pytest.fixture
async def kpi_client(
    migrated_url: str, pool: asyncpg.Pool, routing: Routing
) -> AsyncIterator[httpx.AsyncClient]:
    users = {
        name: {"token_sha256": hash_secret(token), "queues": queues, "role": role}
        for name, (token, queues, role) in USERS.items()
    }
    users["mia"] = {
        "token_sha256": hash_secret("mia-token"),
        "queues": ["housing"],
        "role": "manager",
    }
    settings = router_settings(
        migrated_url,
        router_users=users,
        router_queue_capacity={"energy_aid": {"agents": 1, "items_per_day": 5}},
    )
    async with pool.acquire() as conn:
        await insert_history(conn, load_kpi_queries(), HISTORY, "test", "m1")
        await refresh_all(conn, load_kpi_queries(), routing.tz)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as client,
    ):
        yield client


async def test_a_lead_gets_json_rows_and_the_backlog(kpi_client: httpx.AsyncClient) -> None:
    r = await kpi_client.get("/v1/kpis", params={**WEEK, "by": "queue"}, headers=auth("lena"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == "2025-11-10" and body["time_zone"] == "Europe/Brussels"
    assert {row["key"]: row["received"] for row in body["rows"]} == {"energy_aid": 3, "housing": 2}
    backlog = {b["queue"]: b["waiting"] + b["claimed"] for b in body["backlog"]}
    assert backlog["housing"] == 1 and backlog["energy_aid"] == 1


async def test_csv_for_spreadsheets(kpi_client: httpx.AsyncClient) -> None:
    headers = {**auth("lena"), "Accept": "text/csv"}
    r = await kpi_client.get("/v1/kpis", params={**WEEK, "period": "day"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["period"], row["received"]) for row in rows] == [
        ("2025-11-10", "2"),
        ("2025-11-11", "1"),
        ("2025-11-12", "2"),
    ]
    assert rows[0]["sla_compliance"] == "0.5"


async def test_access_rules(kpi_client: httpx.AsyncClient) -> None:
    agent = await kpi_client.get("/v1/kpis", headers=auth("alice"))
    assert agent.status_code == 403 and agent.json()["error"] == "forbidden"
    assert (await kpi_client.get("/v1/kpis")).status_code == 401
    mine = await kpi_client.get("/v1/kpis", params=WEEK, headers=MIA)
    assert [row["received"] for row in mine.json()["rows"]] == [2]  # housing only
    assert [b["queue"] for b in mine.json()["backlog"]] == ["housing"]
    other = await kpi_client.get("/v1/kpis", params={"queue": "energy_aid"}, headers=MIA)
    assert other.status_code == 403
    bad = await kpi_client.get(
        "/v1/kpis", params={"from": "2025-12-01", "to": "2025-11-01"}, headers=MIA
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "from"
    assert (await kpi_client.get("/v1/kpis", params={"by": "x"}, headers=MIA)).status_code == 422


async def test_forecast_of_a_queue(
    kpi_client: httpx.AsyncClient, pool: asyncpg.Pool, routing: Routing
) -> None:
    today = datetime.now(UTC).date()
    few = await kpi_client.get("/v1/queues/housing/forecast", headers=MIA)
    assert few.status_code == 200 and few.json()["status"] == "insufficient_history"
    # eight weeks of ~6 requests a weekday: enough history; capacity 5 a day
    start = today - timedelta(days=56)
    rows = [
        item(
            1000 + i * 10 + k,
            "energy_aid",
            datetime.combine(start + timedelta(days=i), datetime.min.time(), UTC)
            + timedelta(hours=9 + k),
            datetime(2030, 1, 1, tzinfo=UTC),
        )
        for i in range(56)
        if (start + timedelta(days=i)).weekday() < 5
        for k in range(6)
    ]
    async with pool.acquire() as conn:
        await insert_history(conn, load_kpi_queries(), rows, "test", "m1")
        await refresh_all(conn, load_kpi_queries(), routing.tz)  # or wait for the task
    r = await kpi_client.get("/v1/queues/energy_aid/forecast", headers=auth("lena"))
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok", body
    assert len(body["days"]) == 14 and body["capacity_per_day"] == 5
    weekday = next(d for d in body["days"] if date.fromisoformat(d["day"]).weekday() == 2)
    assert weekday["lower"] <= weekday["expected"] <= weekday["upper"]
    assert 4 < weekday["expected"] < 8 and weekday["over_capacity"]
    assert len(body["actuals"]) == 28
    forbidden = await kpi_client.get("/v1/queues/energy_aid/forecast", headers=MIA)
    assert forbidden.status_code == 403
    metrics = (await kpi_client.get("/metrics")).text
    assert 'triage_router_queue_capacity_items{queue="energy_aid"} 5.0' in metrics
