"""An item's original files: listed on the item, downloaded (as an attachment, never
inline) by users of the item's queue only — by the API and by the page."""

from __future__ import annotations

import asyncpg
import httpx

from shared.documents.store import DocumentStore, File
from testing import documents as d
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth


async def _item_with_files(pool: asyncpg.Pool, store: Store) -> tuple[str, list[str]]:
    event = classified("energy_aid")
    files = [File("lettre.pdf", d.PDF_TYPE, d.text_pdf([d.FR_LETTER])),
             File("<script>.html", "text/html", b"<script>alert(1)</script>")]  # fmt: skip
    rid = event.request_id
    await DocumentStore(pool).record(rid, "demo", event.request.external_id, "h", files)
    await store(event)
    return rid, [f.ref(rid, i).document_id for i, f in enumerate(files)]


async def test_download_only_for_users_of_the_queue(
    client: httpx.AsyncClient, pool: asyncpg.Pool, store: Store
) -> None:
    rid, (pdf_id, html_id) = await _item_with_files(pool, store)
    item = (await client.get(f"/v1/items/{rid}", headers=auth("bob"))).json()
    assert [doc["name"] for doc in item["documents"]] == ["lettre.pdf", "<script>.html"]
    assert item["documents"][0]["status"] == "pending" and "content" not in item["documents"][0]

    url = f"/v1/items/{rid}/documents/{pdf_id}"
    ok = await client.get(url, headers=auth("bob"))  # energy_aid: the item's queue
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF-")
    assert ok.headers["content-type"] == d.PDF_TYPE
    assert ok.headers["content-disposition"] == "attachment; filename*=UTF-8''lettre.pdf"
    html = await client.get(f"/v1/items/{rid}/documents/{html_id}", headers=auth("bob"))
    assert html.headers["content-security-policy"] == "sandbox"
    assert html.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in html.headers["content-disposition"]

    other_queue = await client.get(url, headers=auth("carol"))  # housing only
    assert other_queue.status_code in (403, 404) and other_queue.json()["error"] in (
        "forbidden", "not_found"
    )  # fmt: skip
    assert "%PDF" not in other_queue.text
    assert (await client.get(url)).status_code == 401
    unknown = await client.get(f"/v1/items/{rid}/documents/{rid}", headers=auth("bob"))
    assert unknown.status_code == 404
    bad = await client.get(f"/v1/items/{rid}/documents/not-a-uuid", headers=auth("bob"))
    assert bad.status_code == 404
