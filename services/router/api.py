"""The team-lead / agent JSON API and the status lookup for intake systems (``/v1``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

from services.router import documents
from services.router.auth import Principal, cross_site
from services.router.inputs import CleanText
from services.router.schemas import (
    Agreement,
    Completed,
    ConfirmBody,
    CorrectBody,
    Corrected,
    ItemDetail,
    ItemPage,
    Lease,
    QueueList,
    ReassignBody,
    Reassigned,
    Released,
    RequestStatus,
    Status,
)
from services.router.state import RouterState
from services.router.views import ItemFilter
from shared.errors import ErrorBody, Forbidden, TooManyRequests
from shared.events import Urgency

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no or invalid credentials"},
    403: {"model": ErrorBody, "description": "a queue the caller may not see"},
    404: {"model": ErrorBody, "description": "unknown queue or item"},
    429: {"model": ErrorBody, "description": "over the caller's request rate (Retry-After)"},
}
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"model": ErrorBody, "description": "done, claimed by someone else, or wrong state"},
}


def get_state(request: Request) -> RouterState:
    state: RouterState = request.app.state.router
    return state


State = Annotated[RouterState, Depends(get_state)]


def current_user(request: Request, state: RouterState) -> Principal:
    """The calling team lead or agent, or Unauthenticated (401)."""
    client = request.client.host if request.client else None
    header = state.settings.router_proxy_header
    return state.auth.user(
        request.headers.get("authorization"), request.headers.get(header), client
    )


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class _CredentialsFirst(APIRoute):
    """A route that identifies the caller before FastAPI reads the request body.

    FastAPI parses a JSON body before it solves any dependency, so with the caller
    checked in a dependency, an unparsable body without valid credentials got 400 or
    422 instead of 401. Here the caller is identified first (401 when not), and the
    ``User`` / ``Source`` dependencies return what was found (they are only used on
    routes of these classes).
    """

    def identify(self, request: Request) -> None:
        raise NotImplementedError

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def identified_first(request: Request) -> Response:
            self.identify(request)
            return await handler(request)

        return identified_first


def refuse_cross_site(request: Request) -> None:
    """403 for a state-changing call a browser made from another site.

    Only callers without a bearer token are checked: the proxy's identity (and a
    cookie) travels with every browser request, a bearer token never does.
    """
    if "authorization" in request.headers:
        return
    headers = request.headers
    host = headers.get("x-forwarded-host") or headers.get("host")
    if cross_site(request.method, host, headers.get("origin"), headers.get("sec-fetch-site")):
        raise Forbidden("cross-site request refused", code="cross_site")


def within_limit(state: RouterState, key: str) -> None:
    """429 with Retry-After when the caller is over their request rate."""
    wait = state.api_limit.check(key)
    if wait is not None:
        raise TooManyRequests(
            f"too many requests: retry in {wait} s", headers={"Retry-After": str(wait)}
        )


class UserRoute(_CredentialsFirst):
    def identify(self, request: Request) -> None:
        state = get_state(request)
        principal = request.state.principal = current_user(request, state)
        refuse_cross_site(request)
        within_limit(state, f"user:{principal.name}")


class SourceRoute(_CredentialsFirst):
    def identify(self, request: Request) -> None:
        state = get_state(request)
        source = request.state.source = state.auth.source(request.headers.get("authorization"))
        within_limit(state, f"source:{source}")


def caller(request: Request) -> Principal:
    """The user ``UserRoute`` identified before the body was read."""
    principal: Principal = request.state.principal
    return principal


def calling_source(request: Request) -> str:
    """The intake source ``SourceRoute`` identified before the body was read."""
    source: str = request.state.source
    return source


User = Annotated[Principal, Depends(caller)]
Source = Annotated[str, Depends(calling_source)]

router = APIRouter(prefix="/v1", route_class=UserRoute)
# the status lookup of intake systems: their ingest API key, not a user token
intake = APIRouter(route_class=SourceRoute)


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
    language: Annotated[CleanText | None, Query(max_length=10)] = None,
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
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
    tags=["items"],
)
async def reassign(item_id: str, body: ReassignBody, state: State, who: User) -> dict[str, Any]:
    """Move an item to another queue, where it waits (holder, or a lead)."""
    return await state.workflow.reassign(who, item_id, body.queue, body.reason)


@router.post(
    "/items/{item_id}/correct",
    response_model=Corrected,
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
    tags=["items"],
)
async def correct(item_id: str, body: CorrectBody, state: State, who: User) -> dict[str, Any]:
    """Correct the type and/or urgency: the item is re-routed and the correction stored."""
    urgency = body.urgency.value if body.urgency else None
    return await state.workflow.correct(who, item_id, body.type, urgency, body.reason)


@router.post(
    "/items/{item_id}/confirm",
    response_model=Corrected,
    responses={**_CONFLICTS, 422: {"model": ErrorBody}},
    tags=["items"],
)
async def confirm(
    item_id: str, state: State, who: User, body: ConfirmBody | None = None
) -> dict[str, Any]:
    """Confirm the model's type and urgency: a human label (training data, audit), and the
    item leaves the review queue for its type's queue."""
    return await state.workflow.confirm(who, item_id, body.reason if body else None)


@router.get("/items/{item_id}", response_model=ItemDetail, responses=_ERRORS, tags=["items"])
async def get_item(item_id: str, state: State, who: User) -> dict[str, Any]:
    """The full item: request content, classification and explanation, history."""
    return await state.views.item(who, item_id)


@router.get(
    "/items/{item_id}/documents/{document_id}",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    tags=["items"],
)
async def get_document(item_id: str, document_id: str, state: State, who: User) -> Response:
    """An original file of the item, for users of its queue (as a download)."""
    return await documents.download(state, who, item_id, document_id)


@router.get("/models/accuracy", response_model=Agreement, responses=_ERRORS, tags=["models"])
async def model_accuracy(
    state: State, who: User, weeks: Annotated[int, Query(ge=1, le=104)] = 12
) -> dict[str, Any]:
    """Agreement of each model version's predictions with the human-final labels
    (corrected or confirmed), per week and type; team leads only."""
    return await state.views.agreement(who, weeks)


@intake.get(
    "/requests/{request_id}",
    response_model=RequestStatus,
    response_model_exclude_none=True,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    tags=["intake"],
)
async def request_status(request_id: str, state: State, source: Source) -> dict[str, Any]:
    """Status of a request, for the intake source that sent it (its ingest API key)."""
    return await state.views.request_status(source, request_id)


router.include_router(intake)
