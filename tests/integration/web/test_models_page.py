"""The confirm button and the model accuracy page (issue 16), through the page."""

from __future__ import annotations

import httpx

from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store
from tests.integration.web.conftest import csrf_of, login


async def test_a_lead_confirms_and_sees_the_accuracy(
    page_client: httpx.AsyncClient, store: Store
) -> None:
    event = classified("energy_aid", "high", needs_review=True)
    await store(event)
    await login(page_client, "lena")
    item = f"/ui/items/{event.request_id}"
    html = (await page_client.get(item)).text
    assert "Confirm the classification" in html
    done = await page_client.post(f"{item}/confirm", data={"csrf": csrf_of(html)})
    assert done.status_code == 303
    page = (await page_client.get(done.headers["location"])).text
    assert "Classification confirmed" in page and "Confirm the classification" not in page
    models = (await page_client.get("/ui/models")).text
    assert event.classification.model_version in models and "100" in models


async def test_agents_do_not_see_the_accuracy_page(page_client: httpx.AsyncClient) -> None:
    await login(page_client, "alice")
    assert "Model accuracy" not in (await page_client.get("/ui/")).text
    assert (await page_client.get("/ui/models")).status_code == 403
