"""The team-lead / agent JSON API and the status lookup for intake systems (``/v1``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from services.router.auth import Principal
from services.router.schemas import (
    Completed,
    CorrectBody,
    Corrected,
    ItemDetail,
    ItemPage,
    Lease,
    Problem,
    QueueList,
    ReassignBody,
    Reassigned,
    Released,
    RequestStatus,
    Status,
)
from services.router.state import RouterState
from services.router.views import ItemFilter
from shared.events import Urgency

router = APIRouter(prefix="/v1")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no or invalid credentials"},
    403: {"model": Problem, "description": "a queue the caller may not see"},
    404: {"model": Problem, "description": "unknown queue or item"},
}
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"model": Problem, "description": "done, claimed by someone else, or wrong state"},
}


def get_state(request: Request) -> RouterState:
    state: RouterState = request.app.state.router
    return state


State = Annotated[RouterState, Depends(get_state)]


def current_user(request: Request, state: State) -> Principal:
    client = request.client.host if request.client else None
    header = state.settings.router_proxy_header
    return state.auth.user(
        request.headers.get("authorization"), request.headers.get(header), client
    )


User = Annotated[Principal, Depends(current_user)]


@router.get("/queues", response_model=QueueList, responses=_ERRORS, tags=["queues"])
async def list_queues(state: State, who: User) -> dict[str, Any]:
    """The caller's queues: counts by priority and status, oldest waiting age, past due."""
    return {"queues": await state.views.queues(who)}


@router.get("/queues/{queue}/items", response_model=ItemPage, responses=_ERRORS, tags=["queues"])
async def list_items(
    queue: str,
    state: State,
    who: User,
    status: Annotated[Status | None, Query(description="waiting or claimed")] = None,
    urgency: Urgency | None = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    needs_review: bool | None = None,
    after: Annotated[str | None, Query(description="cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Open items in serving order (priority, then due date), keyset-paged."""
    if status == "done":
        status = None  # done items are not listed: the queue is the open work
    filters = ItemFilter(status, urgency.value if urgency else None, language, needs_review)
    limit = min(limit, state.settings.router_page_max)
    items, cursor = await state.views.items(who, queue, filters, after, limit)
    return {"items": items, "next": cursor}


@router.post(
    "/queues/{queue}/claim",
    response_model=ItemDetail,
    responses={**_ERRORS, 204: {"description": "nothing to claim"}},
    tags=["items"],
)
async def claim(queue: str, state: State, who: User) -> Any:
    """Atomically give the caller the next item with a lease (renew with heartbeat)."""
    row = await state.workflow.claim(who, queue)
    if row is None:
        return Response(status_code=204)
    return await state.views.item(who, str(row["request_id"]))


@router.post(
    "/items/{item_id}/heartbeat", response_model=Lease, responses=_CONFLICTS, tags=["items"]
)
async def heartbeat(item_id: str, state: State, who: User) -> dict[str, Any]:
    """Extend the caller's lease on an item they hold."""
    return await state.workflow.heartbeat(who, item_id)


@router.post(
    "/items/{item_id}/complete", response_model=Completed, responses=_CONFLICTS, tags=["items"]
)
async def complete(item_id: str, state: State, who: User) -> dict[str, Any]:
    """Mark an item the caller holds as done."""
    return await state.workflow.complete(who, item_id)


@router.post(
    "/items/{item_id}/release", response_model=Released, responses=_CONFLICTS, tags=["items"]
)
async def release(item_id: str, state: State, who: User) -> dict[str, Any]:
    """Give a claimed item back to its queue (a lead may release anybody's claim)."""
    return await state.workflow.release(who, item_id)


@router.post(
    "/items/{item_id}/reassign",
    response_model=Reassigned,
    responses={**_CONFLICTS, 422: {"model": Problem}},
    tags=["items"],
)
async def reassign(item_id: str, body: ReassignBody, state: State, who: User) -> dict[str, Any]:
    """Move an item to another queue, where it waits (holder, or a lead)."""
    return await state.workflow.reassign(who, item_id, body.queue, body.reason)


@router.post(
    "/items/{item_id}/correct",
    response_model=Corrected,
    responses={**_CONFLICTS, 422: {"model": Problem}},
    tags=["items"],
)
async def correct(item_id: str, body: CorrectBody, state: State, who: User) -> dict[str, Any]:
    """Correct the type and/or urgency: the item is re-routed and the correction stored."""
    urgency = body.urgency.value if body.urgency else None
    return await state.workflow.correct(who, item_id, body.type, urgency, body.reason)


@router.get("/items/{item_id}", response_model=ItemDetail, responses=_ERRORS, tags=["items"])
async def get_item(item_id: str, state: State, who: User) -> dict[str, Any]:
    """The full item: request content, classification and explanation, history."""
    return await state.views.item(who, item_id)


@router.get(
    "/requests/{request_id}",
    response_model=RequestStatus,
    response_model_exclude_none=True,
    responses={401: {"model": Problem}, 404: {"model": Problem}},
    tags=["intake"],
)
async def request_status(request_id: str, request: Request, state: State) -> dict[str, Any]:
    """Status of a request, for the intake source that sent it (its ingest API key)."""
    source = state.auth.source(request.headers.get("authorization"))
    return await state.views.request_status(source, request_id)
