"""Confirming a prediction (issue 16): a human label, the item leaves the review queue."""

from __future__ import annotations

import httpx

from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth
from tests.integration.router.test_api import claim, problem


async def test_confirming_moves_the_item_from_review_and_records_a_label(
    client: httpx.AsyncClient, store: Store
) -> None:
    event = classified("energy_aid", "high", needs_review=True)
    await store(event)
    assert await claim(client, "alice", "review") == event.request_id
    item = f"/v1/items/{event.request_id}"
    confirmed = await client.post(
        f"{item}/confirm", json={"reason": "call 0470 12 34 56"}, headers=auth("alice")
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert (body["queue"], body["status"], body["type"], body["urgency"]) == (
        "energy_aid",
        "waiting",
        "energy_aid",
        "high",
    )
    detail = (await client.get(item, headers=auth("lena"))).json()
    flags = (detail["confirmed"], detail["corrected"], detail["needs_review"])
    assert flags == (True, False, False)
    [label] = detail["corrections"]
    assert (label["kind"], label["before_type"], label["after_type"]) == (
        "confirmed",
        "energy_aid",
        "energy_aid",
    )
    assert (label["before_queue"], label["after_queue"]) == ("review", "energy_aid")
    assert "0470" not in str(detail) and "[PHONE]" in label["reason"]
    assert [h["event"] for h in detail["history"]][-1] == "confirmed"
    again = await client.post(f"{item}/confirm", headers=auth("lena"))
    problem(again, 409, "already_labelled", "already has a human label")


async def test_confirming_needs_the_claim_or_a_lead(
    client: httpx.AsyncClient, store: Store
) -> None:
    event = classified("energy_aid", "normal")
    await store(event)
    item = f"/v1/items/{event.request_id}/confirm"
    problem(await client.post(item, headers=auth("bob")), 409, "not_claimed", "confirm it")
    problem(await client.post(item, headers=auth("carol")), 404, "not_found", "not found")
    by_lead = await client.post(item, headers=auth("lena"))
    assert by_lead.status_code == 200 and by_lead.json()["queue"] == "energy_aid"


async def test_accuracy_over_time_counts_the_human_labels(
    client: httpx.AsyncClient, store: Store
) -> None:
    right, wrong, unlabelled = (classified("energy_aid", "high") for _ in range(3))
    await store(right, wrong, unlabelled)
    lead = auth("lena")
    assert (await client.post(f"/v1/items/{right.request_id}/confirm", headers=lead)).is_success
    fix = {"type": "housing"}
    answer = await client.post(f"/v1/items/{wrong.request_id}/correct", json=fix, headers=lead)
    assert answer.is_success
    body = (await client.get("/v1/models/accuracy", headers=lead)).json()
    version = right.classification.model_version
    assert body["versions"] == [
        {"model_version": version, "labelled": 2, "type_agreement": 0.5, "urgency_agreement": 1.0}
    ]
    by_type = {cell["type"]: cell for cell in body["weeks"]}
    assert by_type["housing"]["type_agreement"] == 0.0
    assert by_type["energy_aid"]["type_agreement"] == 1.0
    problem(
        await client.get("/v1/models/accuracy", headers=auth("alice")), 403, "forbidden", "lead"
    )
    metrics = (await client.get("/metrics")).text
    series = f'human_labels_total{{agreed="false",head="type",model_version="{version}"}} 1.0'
    assert f"triage_router_{series}" in metrics
