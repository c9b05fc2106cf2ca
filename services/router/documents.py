"""The original files of an item (claim-check store): listed on the item, downloaded
only by users who may see the item's queue — the same rule as the item itself.

The bytes are served as a download, never inline: an uploaded HTML or SVG file
must not run as a page of Triage's origin.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from services.router.auth import Principal
from services.router.state import RouterState
from shared.documents.store import DocumentStore
from shared.errors import NotFound


async def download(state: RouterState, who: Principal, item_id: str, document_id: str) -> Response:
    item = await state.views.item(who, item_id)  # 404 / 403 exactly as for the item
    try:
        document = await DocumentStore(state.pool).get(str(item["request_id"]), document_id)
    except ValueError:  # not a UUID
        document = None
    if document is None:
        raise NotFound(f"document {document_id} not found on item {item_id}")
    return Response(
        document.data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )
