"""The team-lead web page under ``/ui``: login, language, static files, lifespan.

Included by the router app (``app.include_router(web.router)``); FastAPI runs
this router's lifespan inside the app's, so the pool exists when it starts and
the live-update connection is closed before the pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import FileResponse, RedirectResponse
from starlette.responses import Response

from services.router.auth import client_address, parse_networks
from services.router.state import RouterState
from services.router.web import actions, documents, kpi_page, letters, pages
from services.router.web.context import (
    LANG_COOKIE,
    PREFIX,
    Page,
    PageDep,
    WebState,
    end_session,
    safe_next,
)
from services.router.web.i18n import LANGUAGES
from services.router.web.live import QueueEvents
from services.router.web.render import environment
from services.router.web.session import Session, SessionCodec
from services.router.web.settings import WebSettings
from shared.errors import Unauthenticated
from shared.ratelimit import RateLimiter

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
ASSETS = {"app.css": "text/css", "app.js": "text/javascript"}


def asset_versions() -> dict[str, str]:
    """A content hash per static file: URLs change when files do, so browsers may cache."""
    return {name: hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10] for name in ASSETS}


def build_web(router_state: RouterState, settings: WebSettings | None = None) -> WebState:
    settings = settings or router_state.settings  # the page's settings are the router's
    if settings.web_session_secret is None:
        log.warning(
            "TRIAGE_WEB_SESSION_SECRET is not set: page logins end when this process "
            "restarts and do not work across replicas"
        )
        secret = secrets.token_bytes(32)
    else:
        secret = settings.web_session_secret.get_secret_value().encode()
    templates = environment()
    versions = asset_versions()
    templates.globals["asset"] = lambda name: f"{PREFIX}/static/{name}?v={versions[name]}"
    dsn = router_state.settings.database_url.get_secret_value()
    return WebState(
        settings=settings,
        codec=SessionCodec(secret, settings.web_session_hours * 3600),
        templates=templates,
        events=QueueEvents(dsn),
        login_limit=RateLimiter(settings.web_login_per_minute, settings.web_login_burst),
        forwarded=parse_networks(settings.web_forwarded_proxies),
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    web = getattr(app.state, "web", None) or build_web(app.state.router)
    app.state.web = web
    try:
        yield
    finally:
        await web.events.close()


router = APIRouter(include_in_schema=False, lifespan=lifespan)
entry = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/")
async def root() -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@entry.get("/login")
async def login_form(page: PageDep) -> Response:
    if page.user is not None:
        return page.redirect(f"{PREFIX}/")
    return page.render("login.html")


def _over_login_limit(page: Page) -> Response | None:
    """The sign-in page with 429 and Retry-After when this client tried too often."""
    request = page.request
    peer = request.client.host if request.client else None
    client = client_address(peer, request.headers.get("x-forwarded-for"), page.web.forwarded)
    wait = page.web.login_limit.check(client)
    if wait is None:
        return None
    log.warning("page login refused: too many attempts from one client")
    error = page.t("error.rate_limited", seconds=wait)
    response = page.render("login.html", status=429, error=error)
    response.headers["Retry-After"] = str(wait)
    return response


@entry.post("/login")
async def login(page: PageDep) -> Response:
    limited = _over_login_limit(page)
    if limited is not None:
        return limited
    form = await page.request.form()
    token = form.get("token")
    submitted = form.get("csrf")
    if not page.csrf_ok(submitted if isinstance(submitted, str) else None):
        return page.render("login.html", status=403, error=page.t("error.csrf"))
    try:
        who = page.router.auth.user(f"Bearer {token}" if isinstance(token, str) else "", None, None)
    except Unauthenticated:
        log.warning("page login refused (invalid token)")
        await asyncio.sleep(0.3)  # slows guessing down; tokens are long anyway
        return page.render("login.html", status=401, error=page.t("error.login_failed"))
    spec = page.router.auth.users[who.name]
    page.start_session(Session.fresh(who.name, page.web.codec.fingerprint(spec.token_sha256)))
    log.info("page login by %s", who.name)
    return page.redirect(f"{PREFIX}/")


@entry.post("/logout")
async def logout(page: PageDep) -> Response:
    form = await page.request.form()
    submitted = form.get("csrf")
    if not page.csrf_ok(submitted if isinstance(submitted, str) else None):
        return page.render("error.html", status=403, error=page.t("error.csrf"))
    if page.cookie_session is not None and page.cookie_session.user is not None:
        await end_session(page.router, page.web, page.cookie_session)
    page.start_session(Session.fresh())
    page.user = None
    return page.redirect(f"{PREFIX}/login?notice=logged_out")


@entry.get("/lang/{language}")
async def switch_language(
    language: str, page: PageDep, back: Annotated[str | None, Query(alias="next")] = None
) -> Response:
    if language in LANGUAGES:
        page.cookies[LANG_COOKIE] = language
    return page.redirect(safe_next(back))


@entry.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in ASSETS:
        return Response(status_code=404)
    response = FileResponse(STATIC / name, media_type=ASSETS[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


router.include_router(entry)
router.include_router(pages.router)
router.include_router(letters.router)
router.include_router(actions.router)
router.include_router(documents.router)
router.include_router(kpi_page.router)
