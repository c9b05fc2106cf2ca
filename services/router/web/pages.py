"""The pages that show things: queues overview (live), one queue, one item."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from services.router.views import ItemFilter
from services.router.web.context import PREFIX, PageDep
from services.router.web.live import stream
from services.router.web.viewmodel import item_view, priority_columns, queue_choices
from shared.errors import ApiError
from shared.events import Urgency

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

FILTER_LANGUAGES = ("fr", "nl", "en", "de")
PAGE_SIZE = 50


@router.get("/")
async def overview(page: PageDep) -> Response:
    if page.user is None:
        return page.to_login()
    queues = await page.router.views.queues(page.user)
    return page.render(
        "overview.html",
        queues=queues,
        priorities=priority_columns(page.router.routing),
        current="overview",
    )


@router.get("/models")
async def models(page: PageDep) -> Response:
    """Accuracy over time of each model version against the human labels (leads)."""
    if page.user is None:
        return page.to_login()
    try:
        accuracy = await page.router.views.agreement(page.user, 12)
    except ApiError as exc:
        return page.problem(exc)
    return page.render("models.html", accuracy=accuracy, current="models")


@router.get("/queues/rows")
async def overview_rows(page: PageDep) -> Response:
    """The overview's table body, fetched by the page when a queue changes."""
    if page.user is None:
        return page.finish(Response(status_code=401))
    queues = await page.router.views.queues(page.user)
    return page.render(
        "_queue_rows.html", queues=queues, priorities=priority_columns(page.router.routing)
    )


@router.get("/events")
async def events(page: PageDep) -> Response:
    """Server-sent events: ``changed`` with a queue name the user may see."""
    who = page.user
    if who is None:
        return page.finish(Response(status_code=401))
    hub = page.web.events
    try:
        await hub.start()
    except Exception as exc:  # the page falls back to polling
        log.warning("live updates unavailable: %s", type(exc).__name__)
        return page.finish(Response(status_code=503, headers={"Retry-After": "10"}))

    async def body() -> Any:
        async with hub.subscribe() as inbox:
            async for chunk in stream(inbox, who.may_see, page.web.settings.web_stream_max_s):
                yield chunk

    response = StreamingResponse(body(), media_type="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # let nginx-style proxies pass events on
    return page.finish(response)


def _filters(urgency: str | None, language: str | None, review: str | None) -> ItemFilter:
    urgency = urgency if urgency in {u.value for u in Urgency} else None
    language = language if language in FILTER_LANGUAGES else None
    needs_review = {"yes": True, "no": False}.get(review or "")
    return ItemFilter(None, urgency, language, needs_review)


@router.get("/queues/{queue}")
async def queue_page(
    queue: str,
    page: PageDep,
    urgency: str | None = None,
    language: str | None = None,
    review: str | None = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    if page.user is None:
        return page.to_login()
    filters = _filters(urgency, language, review)
    try:
        items, cursor = await page.router.views.items(
            page.user, queue, filters, after or None, PAGE_SIZE
        )
    except ApiError as exc:
        return page.problem(exc)
    chosen = {
        "urgency": filters.urgency or "",
        "language": filters.language or "",
        "review": review if review in ("yes", "no") else "",
    }
    here = f"{PREFIX}/queues/{quote(queue)}"
    query = {k: v for k, v in chosen.items() if v}
    return page.render(
        "queue.html",
        queue=queue,
        items=items,
        first_url=f"{here}?{urlencode(query)}" if after else None,
        next_url=f"{here}?{urlencode({**query, 'after': cursor})}" if cursor else None,
        chosen=chosen,
        urgencies=[u.value for u in Urgency],
        filter_languages=FILTER_LANGUAGES,
    )


@router.get("/items/{item_id}")
async def item_page(item_id: str, page: PageDep) -> Response:
    if page.user is None:
        return page.to_login()
    try:
        item = await load_item(page, item_id)
    except ApiError as exc:
        return page.problem(exc)
    return render_item(page, item)


async def load_item(page: PageDep, item_id: str) -> dict[str, Any]:
    """The item as the API gives it, plus its letters (the page's letters section)."""
    assert page.user is not None
    item = await page.router.views.item(page.user, item_id)
    item["letters"] = await page.router.letters.list(page.user, item_id)
    item["letter_language"] = page.router.letter_book.language_of(item)
    return item


def render_item(
    page: PageDep, item: dict[str, Any], status: int = 200, error: str | None = None
) -> Response:
    routing = page.router.routing
    assert page.user is not None
    return page.render(
        "item.html",
        status=status,
        back=f"{PREFIX}/items/{item['request_id']}",
        item=item_view(item, page.user),
        queues=queue_choices(routing, item["queue"]),
        types=routing.types,
        urgencies=[u.value for u in Urgency],
        letter_kinds=page.router.letter_book.kinds(),
        error=error,
    )
