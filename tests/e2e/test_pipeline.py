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
