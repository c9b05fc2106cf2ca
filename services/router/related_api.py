"""Related cases in the JSON API: closing an item as a duplicate of another.

(An item's related cases come with the item itself, ``GET /v1/items/{id}``.)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.router.api import _CONFLICTS, State, User, UserRoute
from services.router.schemas import ClosedDuplicate, DuplicateBody
from shared.errors import ErrorBody

router = APIRouter(prefix="/v1", route_class=UserRoute)


@router.post(
    "/items/{item_id}/close-duplicate",
    response_model=ClosedDuplicate,
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
    tags=["items"],
)
async def close_duplicate(
    item_id: str, body: DuplicateBody, state: State, who: User
) -> dict[str, Any]:
    """Close the item the caller holds as a duplicate of another (audited; the intake
    system's status lookup then says ``duplicate_of``)."""
    return await state.related.close_duplicate(state.workflow, who, item_id, body.duplicate_of)
