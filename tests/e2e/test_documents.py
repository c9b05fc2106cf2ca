"""Documents through the whole stack: a PDF with a text layer, a French scanned PNG, a
Dutch scanned PDF page, a DOCX, an HTML e-mail with a PDF attached through
/v1/messages (and the same message resent), and bad files — each ends as a work item
with its extracted text (or its "document unreadable" reason) and its original."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from stack.up import LocalStack
from testing import documents as d


def _file(name: str, content_type: str, data: bytes) -> dict[str, str]:
    return {"name": name, "content_type": content_type, "content_base64": d.b64(data)}


CASES: dict[str, tuple[dict[str, str], str | None, str]] = {
    # external_id: (file, text expected in the item, unreadable problem expected)
    "pdf-text": (_file("lettre.pdf", d.PDF_TYPE, d.text_pdf([d.FR_LETTER])), "couper le gaz", ""),
    "png-fr": (_file("scan.png", "image/png", d.scan_image(d.FR_LETTER)), "couper le gaz", ""),
    "pdf-scan-nl": (_file("scan.pdf", d.PDF_TYPE, d.scanned_pdf(d.NL_LETTER)), "OCMW", ""),
    "docx": (_file("rapport.docx", d.DOCX_TYPE, d.docx(d.EN_REPORT)), "home care", ""),
    "encrypted": (_file("x.pdf", d.PDF_TYPE, d.encrypted_pdf()), None, "encrypted"),
    "corrupt": (_file("y.pdf", d.PDF_TYPE, d.corrupt_pdf()), None, "corrupt"),
    "bomb": (_file("z.png", "image/png", d.bomb_png()), None, "decompression_bomb"),
    "blank": (_file("b.png", "image/png", d.blank_png()), None, "no_text"),
}


async def _item(router: httpx.AsyncClient, rid: str, lead: str, wait_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    headers = {"Authorization": f"Bearer {lead}"}
    while time.monotonic() < deadline:
        response = await router.get(f"/v1/items/{rid}", headers=headers)
        if response.status_code == 200:
            return dict(response.json())
        await asyncio.sleep(0.5)
    raise AssertionError(f"item {rid} not routed within {wait_s} s")


def _text(item: dict[str, Any]) -> str:
    return "\n".join(a["text"] for a in item["request"]["attachments"] or [])


async def test_documents_become_items_with_their_text(stack: LocalStack) -> None:
    key, lead = stack.env["TRIAGE_DEMO_API_KEY"], stack.env["TRIAGE_DEMO_LEAD_TOKEN"]
    auth = {"Authorization": f"Bearer {key}"}
    ingest = httpx.AsyncClient(base_url=stack.running["ingest"].url, headers=auth, timeout=60)
    router = httpx.AsyncClient(base_url=stack.running["router"].url, timeout=30)
    async with ingest, router:
        ids = {}
        for external_id, (file, _, _) in CASES.items():
            body = {"source": "demo", "external_id": external_id, "channel": "letter",
                    "body": "Voir le document joint.", "attachments": [file]}  # fmt: skip
            response = await ingest.post("/v1/requests", json=body)
            assert response.status_code == 202, response.text
            ids[external_id] = response.json()["request_id"]
        raw = d.html_email("<e2e-mail@example.be>")
        mail_headers = {"Content-Type": "message/rfc822"}
        sent = await ingest.post("/v1/messages", content=raw, headers=mail_headers)
        resent = await ingest.post("/v1/messages", content=raw, headers=mail_headers)
        assert sent.status_code == resent.status_code == 202, sent.text
        assert sent.json()["request_id"] == resent.json()["request_id"]

        for external_id, (_, expected, problem) in CASES.items():
            item = await _item(router, ids[external_id], lead, wait_s=240)
            (document,) = item["documents"]
            if problem:
                assert document["status"] == "unreadable" and document["problem"] == problem
                assert "document_unreadable" in item["classification"]["review_reasons"]
            else:
                assert document["status"] == "extracted", document
                assert expected and expected in _text(item), _text(item)
                assert {a["page"] for a in item["request"]["attachments"]} == {1}
        gas = await _item(router, ids["png-fr"], lead, wait_s=10)
        assert gas["type"] == "energy_aid" and gas["queue"] in ("energy_aid", "review")

        mail = await _item(router, sent.json()["request_id"], lead, wait_s=120)
        assert mail["request"]["channel"] == "email"
        assert "couper le gaz" in mail["request"]["body"]
        assert "couper le gaz demain matin" in _text(mail)  # the attached PDF's text
        (pdf,) = mail["documents"]
        original = await router.get(
            f"/v1/items/{mail['request_id']}/documents/{pdf['document_id']}",
            headers={"Authorization": f"Bearer {lead}"},
        )
        assert original.status_code == 200 and original.content.startswith(b"%PDF-")
        listing = await router.get(
            f"/v1/queues/{mail['queue']}/items", headers={"Authorization": f"Bearer {lead}"}
        )
        assert [i["request_id"] for i in listing.json()["items"]].count(mail["request_id"]) == 1
