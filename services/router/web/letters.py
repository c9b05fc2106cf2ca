"""The item page's letters: draft from a standard letter, edit, validate, download PDF.

The forms post to ``/ui/items/{id}/letters...`` with the session's CSRF token;
the rules (queue access, a validated letter never changes) are ``Letters``'.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from services.router.letters.api import pdf_response
from services.router.web.actions import posted, text
from services.router.web.context import PREFIX, Page, PageDep
from shared.errors import ApiError

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _raw(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _back(item_id: str, notice: str, letter_id: int) -> str:
    return f"{PREFIX}/items/{item_id}?notice={notice}#letter-{letter_id}"


@router.post("/items/{item_id}/letters")
async def draft(item_id: str, page: PageDep) -> Response:
    async def work(page: Page, form: FormData) -> str:
        assert page.user is not None
        kind, language = text(form, "kind") or "", text(form, "language")
        letter = await page.router.letters.draft(page.user, item_id, kind, language)
        log.info("letter %s drafted on item %s by %s", letter["id"], item_id, page.user.name)
        return _back(item_id, "letter_drafted", letter["id"])

    return await posted(page, item_id, work)


async def _save(page: Page, item_id: str, letter_id: int, form: FormData) -> str:
    """Store the edits (when any), validate when asked; returns the notice."""
    assert page.user is not None
    letters = page.router.letters
    _item, current = await letters.get(page.user, item_id, letter_id)
    subject, body = _raw(form, "subject"), _raw(form, "body").replace("\r\n", "\n")
    if (subject.strip(), body.strip()) != (current["subject"], current["body"].strip()):
        await letters.edit(page.user, item_id, letter_id, subject, body)
    if text(form, "op") == "validate":
        await letters.validate(page.user, item_id, letter_id)
        return "letter_validated"
    return "letter_saved"


@router.post("/items/{item_id}/letters/{letter_id:int}")
async def change(item_id: str, letter_id: int, page: PageDep) -> Response:
    async def work(page: Page, form: FormData) -> str:
        return _back(item_id, await _save(page, item_id, letter_id, form), letter_id)

    return await posted(page, item_id, work)


@router.get("/items/{item_id}/letters/{letter_id:int}.pdf")
async def download(item_id: str, letter_id: int, page: PageDep) -> Response:
    if page.user is None:
        return page.to_login()
    try:
        name, data = await page.router.letters.pdf(page.user, item_id, letter_id)
    except ApiError as exc:
        return page.problem(exc)
    return page.finish(pdf_response(data, name, attachment=True))
