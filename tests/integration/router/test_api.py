"""The queue API on a real PostgreSQL: every error case with its status and message,
and the main paths."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth

Client = httpx.AsyncClient


def problem(response: httpx.Response, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert text in body["message"], body


async def claim(client: Client, user: str, queue: str = "energy_aid") -> str:
    response = await client.post(f"/v1/queues/{queue}/claim", headers=auth(user))
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({}, "missing credentials"),
        ({"Authorization": "Bearer nope"}, "invalid token"),
        ({"Authorization": "Basic YTpi"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer demo-key"}, "invalid token"),  # intake key ≠ user token
        ({"X-Auth-User": "lena"}, "not accepted from this address"),  # proxy not trusted
    ],
)
async def test_no_anonymous_access(client: Client, headers: dict[str, str], text: str) -> None:
    for method, path in (
        ("GET", "/v1/queues"),
        ("GET", "/v1/queues/energy_aid/items"),
        ("POST", "/v1/queues/energy_aid/claim"),
        ("GET", f"/v1/items/{uuid.uuid4()}"),
    ):
        response = await client.request(method, path, headers=headers)
        problem(response, 401, "unauthenticated", text)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_queues_the_user_may_not_see_are_forbidden(client: Client, store: Store) -> None:
    housing = classified("housing")
    await store(housing)
    for method, path in (
        ("GET", "/v1/queues/housing/items"),
        ("POST", "/v1/queues/housing/claim"),
    ):
        problem(
            await client.request(method, path, headers=auth("alice")),
            403,
            "forbidden",
            "you may not access queue 'housing'",
        )
    # An item in another queue is reported like an unknown one: a 403 would confirm
    # that the request exists.
    for method, path in (
        ("GET", f"/v1/items/{housing.request_id}"),
        ("POST", f"/v1/items/{housing.request_id}/complete"),
        ("POST", f"/v1/items/{housing.request_id}/heartbeat"),
    ):
        response = await client.request(method, path, headers=auth("alice"))
        problem(response, 404, "not_found", f"item {housing.request_id} not found")
        assert "housing" not in response.text
    queues = (await client.get("/v1/queues", headers=auth("alice"))).json()["queues"]
    assert [q["queue"] for q in queues] == ["energy_aid", "review"]


async def test_unknown_queue_and_item_are_404(client: Client) -> None:
    problem(
        await client.get("/v1/queues/nope/items", headers=auth("lena")),
        404,
        "not_found",
        "unknown queue 'nope'",
    )
    problem(
        await client.post("/v1/queues/nope/claim", headers=auth("lena")),
        404,
        "not_found",
        "unknown queue 'nope'",
    )
    missing = uuid.uuid4()
    for method, path in (
        ("GET", f"/v1/items/{missing}"),
        ("POST", f"/v1/items/{missing}/complete"),
        ("POST", f"/v1/items/{missing}/heartbeat"),
        ("POST", f"/v1/items/{missing}/release"),
        ("GET", "/v1/items/not-a-uuid"),
        ("POST", "/v1/items/not-a-uuid/complete"),
    ):
        problem(
            await client.request(method, path, headers=auth("lena")), 404, "not_found", "not found"
        )
    for body, path in (({"queue": "housing"}, "reassign"), ({"urgency": "low"}, "correct")):
        problem(
            await client.post(f"/v1/items/{missing}/{path}", json=body, headers=auth("lena")),
            404,
            "not_found",
            f"item {missing} not found",
        )


async def test_empty_queue_claim_is_204(client: Client) -> None:
    response = await client.post("/v1/queues/energy_aid/claim", headers=auth("alice"))
    assert response.status_code == 204 and response.content == b""


async def test_conflicts_are_409_with_a_message(client: Client, store: Store) -> None:
    held, waiting = classified("energy_aid", "critical"), classified("energy_aid", "low")
    await store(held, waiting)
    assert await claim(client, "alice") == held.request_id
    item = f"/v1/items/{held.request_id}"
    for action in ("complete", "heartbeat", "release"):
        problem(
            await client.post(f"{item}/{action}", headers=auth("bob")),
            409,
            "claimed_by_other",
            f"item {held.request_id} is claimed by alice",
        )
    problem(
        await client.post(f"{item}/correct", json={"urgency": "low"}, headers=auth("bob")),
        409,
        "claimed_by_other",
        "claimed by alice",
    )
    problem(
        await client.post(f"{item}/reassign", json={"queue": "review"}, headers=auth("bob")),
        409,
        "claimed_by_other",
        "claimed by alice",
    )
    other = f"/v1/items/{waiting.request_id}"
    problem(
        await client.post(f"{other}/complete", headers=auth("bob")),
        409,
        "not_claimed",
        "is not claimed: claim it before you complete it",
    )
    problem(
        await client.post(f"{other}/release", headers=auth("lena")),
        409,
        "not_claimed",
        "is not claimed",
    )
    problem(
        await client.post(f"{other}/reassign", json={"queue": "review"}, headers=auth("bob")),
        409,
        "not_claimed",
        "claim it before you reassign it",
    )
    problem(
        await client.post(f"{item}/reassign", json={"queue": "energy_aid"}, headers=auth("alice")),
        409,
        "same_queue",
        "is already in queue 'energy_aid'",
    )
    assert (await client.post(f"{item}/complete", headers=auth("alice"))).status_code == 200
    for action in ("complete", "heartbeat", "release"):
        problem(
            await client.post(f"{item}/{action}", headers=auth("alice")),
            409,
            "item_done",
            "is already done",
        )
    problem(
        await client.post(f"{item}/correct", json={"urgency": "low"}, headers=auth("lena")),
        409,
        "item_done",
        "is already done",
    )
    problem(
        await client.post(f"{item}/reassign", json={"queue": "review"}, headers=auth("lena")),
        409,
        "item_done",
        "is already done",
    )


async def test_invalid_bodies_are_422(client: Client, store: Store) -> None:
    event = classified("energy_aid", "high")
    await store(event)
    await claim(client, "alice")
    item = f"/v1/items/{event.request_id}"
    cases = [
        ("reassign", {"queue": "nowhere"}, "unknown_queue", "unknown target queue 'nowhere'"),
        ("reassign", {}, "validation_failed", "queue: required field is missing"),
        ("correct", {}, "nothing_to_correct", "give a new type and/or a new urgency"),
        ("correct", {"type": "parking"}, "unknown_type", "unknown type 'parking'"),
        ("correct", {"urgency": "high"}, "nothing_to_correct", "changes nothing"),
        ("correct", {"urgency": "urgent"}, "validation_failed", "urgency: must be one of"),
        (
            "correct",
            {"urgency": "low", "colour": "red"},
            "validation_failed",
            "colour: unknown field",
        ),
        # PostgreSQL refuses NUL in text and jsonb: a 422 here, never a 500 later
        ("reassign", {"queue": "review", "reason": "a\x00b"}, "validation_failed", "reason"),
        ("correct", {"urgency": "low", "reason": "\x00"}, "validation_failed", "control"),
        ("correct", {"type": "hous\x00ing"}, "validation_failed", "type"),
    ]
    for action, body, code, text in cases:
        response = await client.post(f"{item}/{action}", json=body, headers=auth("alice"))
        problem(response, 422, code, text)
    problem(
        await client.get("/v1/queues/energy_aid/items?after=garbage", headers=auth("alice")),
        422,
        "invalid_cursor",
        "invalid 'after' cursor",
    )
    problem(
        await client.get("/v1/queues/energy_aid/items?limit=0", headers=auth("alice")),
        422,
        "validation_failed",
        "limit",
    )
    crafted = base64.urlsafe_b64encode(
        json.dumps([40_000, "2026-01-01T00:00:00+00:00", str(uuid.uuid4())]).encode()
    ).decode()  # a priority beyond the smallint column
    problem(
        await client.get(f"/v1/queues/energy_aid/items?after={crafted}", headers=auth("alice")),
        422,
        "invalid_cursor",
        "invalid 'after' cursor",
    )
    nul = await client.get("/v1/queues/energy_aid/items?language=%00", headers=auth("alice"))
    problem(nul, 422, "validation_failed", "language")
    problem(await client.get("/v1/queues/a%00b/items", headers=auth("lena")), 404, "not_found", "")


async def test_listing_is_ordered_filtered_and_keyset_paged(client: Client, store: Store) -> None:
    events = [classified("energy_aid", u) for u in ("low", "critical", "normal", "high") * 3]
    events.append(classified("energy_aid", "high", needs_review=False, language=None))
    await store(*events)
    seen, after = [], None
    while True:
        params = {"limit": "5", **({"after": after} if after else {})}
        page = (
            await client.get("/v1/queues/energy_aid/items", params=params, headers=auth("alice"))
        ).json()
        seen += page["items"]
        if not (after := page["next"]):
            break
    assert len(seen) == len({i["request_id"] for i in seen}) == 13
    keys = [(i["priority"], i["due_at"], i["request_id"]) for i in seen]
    assert keys == sorted(keys)
    high = (
        await client.get("/v1/queues/energy_aid/items?urgency=high", headers=auth("alice"))
    ).json()["items"]
    assert len(high) == 4 and {i["urgency"] for i in high} == {"high"}
    await claim(client, "alice")
    claimed = (
        await client.get("/v1/queues/energy_aid/items?status=claimed", headers=auth("bob"))
    ).json()["items"]
    assert [(i["claimed_by"], i["urgency"]) for i in claimed] == [("alice", "critical")]
    assert (
        await client.get(
            "/v1/queues/energy_aid/items?language=fr&needs_review=true", headers=auth("alice")
        )
    ).json()["items"] == []


async def test_correcting_the_type_reroutes_and_records_the_correction(
    client: Client, store: Store
) -> None:
    event = classified("energy_aid", "normal")
    await store(event)
    await claim(client, "alice")
    item = f"/v1/items/{event.request_id}"
    same_queue = await client.post(
        f"{item}/correct", json={"urgency": "critical"}, headers=auth("alice")
    )
    assert same_queue.json()["claimed_by"] == "alice" and same_queue.json()["priority"] == 1
    moved = await client.post(
        f"{item}/correct",
        headers=auth("alice"),
        json={"type": "housing", "reason": "call 0470 12 34 56"},
    )
    assert moved.status_code == 200
    assert (moved.json()["queue"], moved.json()["status"]) == ("housing", "waiting")
    detail = (await client.get(item, headers=auth("lena"))).json()
    assert (detail["type"], detail["model_type"], detail["corrected"]) == (
        "housing",
        "energy_aid",
        True,
    )
    assert [c["after_type"] for c in detail["corrections"]] == ["energy_aid", "housing"]
    assert "0470" not in str(detail["history"]) and "[PHONE]" in str(detail["corrections"])
    corrected = [h for h in detail["history"] if h["event"] == "corrected"]
    assert corrected[-1]["details"]["before"]["queue"] == "energy_aid"
    assert corrected[-1]["details"]["after"]["queue"] == "housing"
    problem(await client.get(item, headers=auth("alice")), 404, "not_found", "not found")


async def test_leads_release_and_reassign_other_peoples_items(client: Client, store: Store) -> None:
    event = classified("energy_aid", "high")
    await store(event)
    await claim(client, "alice")
    item = f"/v1/items/{event.request_id}"
    released = await client.post(f"{item}/release", headers=auth("lena"))
    assert released.json()["holder"] == "alice"
    moved = await client.post(
        f"{item}/reassign", json={"queue": "review", "reason": "unclear"}, headers=auth("lena")
    )
    assert moved.json() == {
        "request_id": event.request_id,
        "from_queue": "energy_aid",
        "queue": "review",
    }
    history = (await client.get(item, headers=auth("alice"))).json()["history"]
    assert [h["event"] for h in history] == ["routed", "claimed", "released", "reassigned"]


async def test_queue_overview_counts(client: Client, store: Store) -> None:
    await store(
        classified("energy_aid", "critical"),
        classified("energy_aid", "low"),
        classified("energy_aid", "low"),
        classified("food_aid", "high", needs_review=True),
    )
    await claim(client, "alice")
    queues = {
        q["queue"]: q
        for q in (await client.get("/v1/queues", headers=auth("lena"))).json()["queues"]
    }
    assert len(queues) == 11
    energy = queues["energy_aid"]
    assert (energy["waiting"], energy["claimed"]) == (2, 1)
    assert energy["by_priority"] == {
        "1": {"waiting": 0, "claimed": 1},
        "4": {"waiting": 2, "claimed": 0},
    }
    assert energy["oldest_waiting_age_s"] >= 0 and energy["past_due"] == 0
    assert queues["review"]["waiting"] == 1 and queues["housing"]["waiting"] == 0


async def test_ops_endpoints(client: Client, store: Store) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    await store(classified("energy_aid"))
    await claim(client, "alice")
    metrics = (await client.get("/metrics")).text
    assert 'triage_router_claims_total{queue="energy_aid"} 1.0' in metrics
    # labelled by the route template of the included API router, not "other" or the id
    claimed = 'method="POST",route="/v1/queues/{queue}/claim",service="router",status="200"'
    assert f"triage_http_requests_total{{{claimed}}} 1.0" in metrics
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/v1/queues",
        "/v1/queues/{queue}/items",
        "/v1/queues/{queue}/claim",
        "/v1/items/{item_id}",
        "/v1/items/{item_id}/correct",
        "/v1/requests/{request_id}",
    ):
        assert path in paths
