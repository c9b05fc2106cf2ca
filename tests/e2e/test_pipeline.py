"""POST to ingest → classifier → router: the item is in its queue and its status is visible."""

from __future__ import annotations

import asyncio
import time

import httpx

from stack.up import LocalStack
from tests.fixtures.services import corpus_rows


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _wait_queued(
    client: httpx.AsyncClient, ids: list[str], key: str, wait_s: float
) -> dict[str, dict]:
    deadline = time.monotonic() + wait_s
    statuses: dict[str, dict] = {}
    while time.monotonic() < deadline:
        for request_id in ids:
            if statuses.get(request_id, {}).get("status") == "queued":
                continue
            resp = await client.get(f"/v1/requests/{request_id}", headers=_headers(key))
            if resp.status_code == 200:
                statuses[request_id] = resp.json()
        if all(statuses.get(i, {}).get("status") == "queued" for i in ids):
            return statuses
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"not queued in time: {[i for i in ids if statuses.get(i, {}).get('status') != 'queued']}"
    )


async def test_requests_flow_into_their_queues(stack: LocalStack) -> None:
    env = stack.env
    key, lead = env["TRIAGE_DEMO_API_KEY"], env["TRIAGE_DEMO_LEAD_TOKEN"]
    rows = corpus_rows()[::40][:20]
    ingest = httpx.AsyncClient(base_url=stack.running["ingest"].url, headers=_headers(key))
    router = httpx.AsyncClient(base_url=stack.running["router"].url)
    async with ingest, router:
        ids = []
        for i, row in enumerate(rows):
            body = {"source": "demo", "external_id": f"e2e-{i}", "channel": "email"}
            resp = await ingest.post("/v1/requests", json={**body, "body": row["text"]})
            assert resp.status_code == 202, resp.text
            ids.append(resp.json()["request_id"])
        statuses = await _wait_queued(router, ids, key, wait_s=120)
        for request_id in ids:
            queue = statuses[request_id]["queue"]
            page = await router.get(
                f"/v1/queues/{queue}/items", headers=_headers(lead), params={"limit": 200}
            )
            assert page.status_code == 200, page.text
            assert request_id in {item["request_id"] for item in page.json()["items"]}
        item = (await router.get(f"/v1/items/{ids[0]}", headers=_headers(lead))).json()
        assert item["request"]["body"] == rows[0]["text"]
        # a source never sees a request it did not send
        other = await router.get(f"/v1/requests/{ids[0]}", headers=_headers("not-a-key"))
        assert other.status_code in (401, 404)
    print(f"sent={len(ids)} accepted={len(ids)} queued={len(statuses)} lost=0")


async def test_a_persons_resubmission_shows_the_first_and_is_closed_as_duplicate(
    stack: LocalStack,
) -> None:
    env = stack.env
    key, lead = env["TRIAGE_DEMO_API_KEY"], env["TRIAGE_DEMO_LEAD_TOKEN"]
    texts = [
        "Bonjour, je demande une aide du CPAS pour payer ma facture de gaz de 640 euros. "
        "Mon numéro national est 85.07.30-033.28.",
        "Bonjour,\n\nje demande une aide du CPAS pour payer ma facture de gaz de 640 euros. "
        "Mon numéro national: 85073003328. Merci d'avance.",
    ]
    ingest = httpx.AsyncClient(base_url=stack.running["ingest"].url, headers=_headers(key))
    router = httpx.AsyncClient(base_url=stack.running["router"].url, headers=_headers(lead))
    async with ingest, router:
        ids = []
        for i, text in enumerate(texts):  # one after the other, as a person resubmits
            body = {"source": "demo", "external_id": f"e2e-rel-{i}", "channel": "email"}
            resp = await ingest.post("/v1/requests", json={**body, "body": text})
            ids.append(resp.json()["request_id"])
            statuses = await _wait_queued(router, ids[-1:], key, wait_s=120)
        first, second = ids
        related = (await router.get(f"/v1/items/{second}")).json()["related"]
        assert [r["request_id"] for r in related["same_person"]] == [first]
        # other demo requests about gas bills may be likely duplicates too
        assert first in [r["request_id"] for r in related["duplicates"]]
        queue = statuses[second]["queue"]
        for _ in range(30):  # the lead takes items of that queue until it holds the second
            claimed = await router.post(f"/v1/queues/{queue}/claim")
            if claimed.status_code == 204 or claimed.json()["request_id"] == second:
                break
        closed = await router.post(
            f"/v1/items/{second}/close-duplicate", json={"duplicate_of": first}
        )
        assert closed.status_code == 200, closed.text
        status = await router.get(f"/v1/requests/{second}", headers=_headers(key))
        assert (status.json()["status"], status.json()["duplicate_of"]) == ("done", first)
