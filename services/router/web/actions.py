"""The buttons: take next, complete, release, reassign, correct, confirm, extend the claim,
close as a duplicate.

Every form is a POST carrying the session's CSRF token. The rules are the
router's own (``Workflow``); a refusal is shown on the item page, re-read so the
agent sees who holds it now, with the status the API would give (409, 403, …).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from services.router.inputs import is_clean
from services.router.web.context import PREFIX, Page, PageDep, error_message
from services.router.web.pages import load_item, render_item
from shared.errors import ApiError, Invalid
from shared.events import URGENCIES

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

REASON_MAX = 1000


async def checked_form(page: Page) -> FormData | None:
    """The submitted form if its CSRF token matches the session, else None."""
    form = await page.request.form()
    token = form.get("csrf")
    return form if page.csrf_ok(token if isinstance(token, str) else None) else None


def expired(page: Page) -> Response:
    """A form from another site, or from a session that ended: nothing was done."""
    return page.render("error.html", status=403, error=page.t("error.csrf"))


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    if not is_clean(value):
        raise Invalid(f"{name}: control characters are not accepted", code="control_characters")
    return value.strip()


def reason_of(form: FormData) -> str | None:
    reason = text(form, "reason")
    if reason is not None and len(reason) > REASON_MAX:
        raise Invalid("reason too long", code="reason_too_long")
    return reason


@router.post("/queues/{queue}/claim")
async def take_next(queue: str, page: PageDep) -> Response:
    if page.user is None:
        return page.to_login()
    if await checked_form(page) is None:
        return expired(page)
    try:
        row = await page.router.workflow.claim(page.user, queue)
    except ApiError as exc:
        return page.problem(exc)
    if row is None:
        return page.redirect(f"{PREFIX}/queues/{queue}?notice=nothing_to_claim")
    return page.redirect(f"{PREFIX}/items/{row['request_id']}?notice=claimed")


async def refused(page: Page, item_id: str, exc: ApiError, target: str | None) -> Response:
    """The item page as it is now, with the reason the action was refused."""
    assert page.user is not None
    try:
        item = await load_item(page, item_id)
    except ApiError as missing:
        return page.problem(missing)
    params = {"holder": item.get("claimed_by") or "—", "queue": target or item["queue"]}
    return render_item(page, item, exc.status, error_message(page.t, exc, **params))


async def _apply(page: Page, item_id: str, action: str, form: FormData) -> tuple[str, Any]:
    """Run one action; returns (notice, the workflow's result)."""
    assert page.user is not None
    flow, who = page.router.workflow, page.user
    if action == "complete":
        return "completed", await flow.complete(who, item_id)
    if action == "release":
        return "released", await flow.release(who, item_id)
    if action == "heartbeat":
        return "extended", await flow.heartbeat(who, item_id)
    if action == "reassign":
        target = text(form, "queue") or ""
        return "reassigned", await flow.reassign(who, item_id, target, reason_of(form))
    if action == "correct":
        urgency = text(form, "urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Invalid(f"unknown urgency {urgency!r}", code="invalid_urgency")
        type_ = text(form, "type")
        return "corrected", await flow.correct(who, item_id, type_, urgency, reason_of(form))
    if action == "confirm":
        return "confirmed", await flow.confirm(who, item_id, reason_of(form))
    if action == "close-duplicate":
        original = text(form, "duplicate_of") or ""
        related = page.router.related
        return "closed_duplicate", await related.close_duplicate(flow, who, item_id, original)
    raise Invalid(f"unknown action {action!r}", code="unknown_action")


def _after(page: Page, item_id: str, notice: str, result: dict[str, Any]) -> str:
    """Where the agent goes next: the item if they may still see it, else a queue."""
    assert page.user is not None
    queue = str(result.get("queue") or "")
    origin = str(result.get("from_queue") or queue)
    if notice in ("completed", "released", "closed_duplicate"):
        return f"{PREFIX}/queues/{queue}?notice={notice}"
    if page.user.may_see(queue):
        return f"{PREFIX}/items/{item_id}?notice={notice}"
    if page.user.may_see(origin):
        return f"{PREFIX}/queues/{origin}?notice={notice}"
    return f"{PREFIX}/?notice={notice}"


Work = Callable[[Page, FormData], Awaitable[str]]


async def posted(page: Page, item_id: str, work: Work) -> Response:
    """A form about an item: signed in, CSRF checked; ``work`` does it and returns where
    to go next, or raises the refusal shown on the item page."""
    if page.user is None:
        return page.to_login()
    form = await checked_form(page)
    if form is None:
        return expired(page)
    try:
        where = await work(page, form)
    except ApiError as exc:
        queue = form.get("queue")
        target = queue if isinstance(queue, str) and is_clean(queue) else None
        return await refused(page, item_id, exc, target)
    return page.redirect(where)


@router.post("/items/{item_id}/{action}")
async def act(item_id: str, action: str, page: PageDep) -> Response:
    async def work(page: Page, form: FormData) -> str:
        assert page.user is not None
        notice, result = await _apply(page, item_id, action, form)
        log.info("web action %s on item %s by %s", action, item_id, page.user.name)
        return _after(page, item_id, notice, result)

    return await posted(page, item_id, work)
