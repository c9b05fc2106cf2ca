"""The item page lists the originals (name, unreadable reason) and downloads them only
for users of the item's queue."""

from __future__ import annotations

import asyncpg
import httpx

from shared.documents.store import DocumentStore, File
from shared.events import DocumentStatus
from testing import documents as d
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store
from tests.integration.web.conftest import login


async def test_item_page_lists_and_downloads_originals(
    page_client: httpx.AsyncClient, pool: asyncpg.Pool, store: Store
) -> None:
    event = classified("energy_aid")
    rid = event.request_id
    files = [File("lettre.pdf", d.PDF_TYPE, d.text_pdf([d.FR_LETTER])),
             File("scan.png", "image/png", d.blank_png())]  # fmt: skip
    documents = DocumentStore(pool)
    await documents.record(rid, "demo", event.request.external_id, "h", files)
    unreadable = (
        files[1]
        .ref(rid, 1)
        .model_copy(update={"status": DocumentStatus.unreadable, "problem": "no_text"})
    )
    await documents.mark([unreadable])
    await store(event)

    await login(page_client, "alice")  # energy_aid and review
    page = await page_client.get(f"/ui/items/{rid}")
    assert page.status_code == 200
    link = f"/ui/items/{rid}/documents/{files[0].ref(rid, 0).document_id}"
    assert link in page.text and "Original files" in page.text
    assert "document unreadable (no text)" in page.text
    download = await page_client.get(link)
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert download.headers["content-disposition"].startswith("attachment;")

    page_client.cookies.clear()
    await login(page_client, "carol")  # housing only
    refused = await page_client.get(link)
    assert refused.status_code in (403, 404) and b"%PDF" not in refused.content
