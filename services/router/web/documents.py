"""The page's download of an item's original file (the listing is the partial
``templates/_documents.html`` of the item page)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from services.router import documents
from services.router.web.context import PREFIX, PageDep
from shared.errors import ApiError

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/items/{item_id}/documents/{document_id}")
async def download(item_id: str, document_id: str, page: PageDep) -> Response:
    if page.user is None:
        return page.to_login()
    try:
        return await documents.download(page.router, page.user, item_id, document_id)
    except ApiError as exc:
        return page.problem(exc)
