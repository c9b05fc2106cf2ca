"""Related cases on the item page (HTTP, no browser): shown in three languages, closing
an item as a duplicate through the form."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from services.router.rules import Routing
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store
from tests.integration.router.related_support import H1, related, related_store, vector
from tests.integration.web.conftest import csrf_of, login

Client = httpx.AsyncClient


@pytest.fixture
def store_related(pool: asyncpg.Pool, routing: Routing, migrated_url: str) -> Store:
    return related_store(pool, routing, migrated_url)


@pytest.mark.parametrize(
    ("language", "same_person", "duplicates"),
    [
        ("en", "Related cases", "Likely duplicates"),
        ("fr", "Autres dossiers ouverts de la même personne", "Doublons probables"),
        ("nl", "Andere open dossiers van dezelfde persoon", "Waarschijnlijke dubbels"),
    ],
)
async def test_item_page_links_the_persons_items_and_duplicates(
    page_client: Client, store_related: Store, language: str, same_person: str, duplicates: str
) -> None:
    first = related(classified("energy_aid"), [H1], vector(1))
    second = related(classified("energy_aid"), [H1], vector(2, noise_of=1, noise=0.05))
    await store_related(first)
    await store_related(second)
    await login(page_client, "alice")
    page_client.cookies.set("triage_lang", language)
    html = (await page_client.get(f"/ui/items/{second.request_id}")).text
    assert same_person in html and duplicates in html
    link = f'href="/ui/items/{first.request_id}"'
    section = html[html.index('id="related"') :]
    assert section.count(link) == 2  # in both tables
    assert 'id="d-original"' not in html  # not held by alice: no close form


async def test_closing_a_duplicate_from_the_page(page_client: Client, store_related: Store) -> None:
    first = related(classified("energy_aid", "high"), [], vector(1))
    second = related(classified("energy_aid"), [], vector(2, noise_of=1, noise=0.05))
    await store_related(first, second)
    await login(page_client, "lena")
    overview = await page_client.get("/ui/queues/energy_aid")
    await page_client.post("/ui/queues/energy_aid/claim", data={"csrf": csrf_of(overview.text)})
    await page_client.post("/ui/queues/energy_aid/claim", data={"csrf": csrf_of(overview.text)})
    item = await page_client.get(f"/ui/items/{second.request_id}")
    assert 'id="d-original"' in item.text
    response = await page_client.post(
        f"/ui/items/{second.request_id}/close-duplicate",
        data={"csrf": csrf_of(item.text), "duplicate_of": first.request_id},
    )
    assert response.status_code == 303
    assert "notice=closed_duplicate" in response.headers["location"]
    after = (await page_client.get(f"/ui/items/{second.request_id}")).text
    assert 'id="duplicate-of"' in after and f"/ui/items/{first.request_id}" in after
