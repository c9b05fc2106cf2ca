"""Per-request context of the pages: who is there, in which language, rendering.

Identity: a session cookie from a token login, else what the JSON API accepts
(the trusted auth-proxy header, or a bearer token) via its own dependency.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from services.router import api
from services.router.auth import ALL, Networks, Principal
from services.router.state import RouterState
from services.router.web.i18n import LANGUAGES, Translator, catalogue, negotiate
from services.router.web.live import QueueEvents
from services.router.web.render import Formatter, short_id
from services.router.web.session import COOKIE, Session, SessionCodec, csrf_ok
from services.router.web.settings import WebSettings
from shared.errors import ApiError, Unauthenticated
from shared.ratelimit import RateLimiter

PREFIX = "/ui"
LANG_COOKIE = "triage_lang"
# Everything the page loads comes from this service; no inline script or style.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass
class WebState:
    settings: WebSettings
    codec: SessionCodec
    templates: jinja2.Environment
    events: QueueEvents
    login_limit: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    forwarded: Networks = field(default_factory=list)


def principal_for(router: RouterState, name: str) -> Principal | None:
    """The configured user of that name (same rule as the API: ``*`` = every queue)."""
    spec = router.auth.users.get(name)
    if spec is None:
        return None
    return Principal(name, spec.role, None if ALL in spec.queues else frozenset(spec.queues))


def safe_next(target: str | None) -> str:
    """A redirect target inside the page (never another site)."""
    if target and target.startswith(f"{PREFIX}/") and not any(c in target for c in "\\\r\n"):
        return target
    return f"{PREFIX}/"


@dataclass
class Page:
    request: Request
    router: RouterState
    web: WebState
    t: Translator
    session: Session
    cookie_session: Session | None  # the one the browser sent (None: new visitor)
    user: Principal | None
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.t.language

    def _secure(self) -> bool:
        return self.web.settings.web_cookie_secure or self.request.url.scheme == "https"

    def start_session(self, session: Session) -> None:
        self.session = session
        self.cookies[COOKIE] = self.web.codec.dumps(session)

    def finish(self, response: Response) -> Response:
        """Cookies and security headers on every response of the page (never cached:
        pages show personal data)."""
        for name, value in self.cookies.items():
            response.set_cookie(
                name,
                value,
                path=PREFIX,
                httponly=True,
                samesite="strict" if name == COOKIE else "lax",
                secure=self._secure(),
                max_age=None if name == COOKIE else 365 * 86400,
            )
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        return response

    def redirect(self, target: str) -> Response:
        return self.finish(RedirectResponse(target, status_code=303))

    def to_login(self) -> Response:
        return self.redirect(f"{PREFIX}/login")

    def csrf_ok(self, submitted: str | None) -> bool:
        return csrf_ok(self.cookie_session, submitted)

    def notice(self) -> str | None:
        """A confirmation named in the URL after an action (only known messages)."""
        key = f"notice.{self.request.query_params.get('notice', '')}"
        return self.t(key) if key in catalogue("en") else None

    def render(
        self, template: str, status: int = 200, back: str | None = None, **context: Any
    ) -> Response:
        """``back``: where the language switch returns (default: this page if it was a GET;
        the URL of a form's POST cannot be reloaded)."""
        now = datetime.now(UTC)
        if back is None and self.request.method == "GET":
            query = urlencode(
                [(k, v) for k, v in self.request.query_params.multi_items() if k != "notice"]
            )
            back = f"{self.request.url.path}?{query}" if query else self.request.url.path
        base = {
            "t": self.t,
            "lang": self.lang,
            "languages": LANGUAGES,
            "fmt": Formatter(self.t, self.router.routing.tz, now),
            "short_id": short_id,
            "user": self.user,
            "csrf": self.session.csrf,
            "prefix": PREFIX,
            "here": quote(safe_next(back), safe="/"),
            "notice": self.notice(),
            "error": None,
            "current": None,
            "session_user": self.session.user is not None,
        }
        html = self.web.templates.get_template(template).render({**base, **context})
        return self.finish(HTMLResponse(html, status_code=status))

    def problem(self, exc: ApiError, **context: Any) -> Response:
        """An error page (404, 403, …) with a translated message."""
        return self.render(
            "error.html", status=exc.status, error=error_message(self.t, exc), **context
        )


def error_message(t: Translator, exc: ApiError, **params: object) -> str:
    """The translated message of a domain error (its code), else a generic one."""
    key = f"error.{exc.code}"
    if key in catalogue("en"):
        return t(key, **params)
    return t("error.generic")


def get_web(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


def _language(request: Request, web: WebState) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return negotiate(request.headers.get("accept-language"), web.settings.web_default_language)


def _identify(
    request: Request, router: RouterState, web: WebState, session: Session | None
) -> Principal | None:
    if session is not None and session.user is not None:
        spec = router.auth.users.get(session.user)
        if spec is None or spec.token_sha256 is None:
            return None
        if not hmac.compare_digest(web.codec.fingerprint(spec.token_sha256), session.key or ""):
            return None  # the token was changed since this login
        return principal_for(router, session.user)
    try:
        return api.current_user(request, router)
    except Unauthenticated:
        return None


async def _revoked(router: RouterState, session: Session | None) -> bool:
    """True for a token login that was logged out (only those have anything to end)."""
    if session is None or session.user is None:
        return False
    async with router.pool.acquire() as conn:
        revoked: bool = await conn.fetchval(router.queries.session_revoked, session.digest)
    return revoked


async def end_session(router: RouterState, web: WebState, session: Session) -> None:
    """Remember a logged-out session until its cookie would have expired anyway."""
    expires = datetime.fromtimestamp(session.issued + web.codec.max_age_s, UTC)
    async with router.pool.acquire() as conn:
        await conn.execute(router.queries.revoke_session, session.digest, expires)


async def get_page(request: Request) -> Page:
    router = api.get_state(request)
    web = get_web(request)
    sent = web.codec.loads(request.cookies.get(COOKIE))
    if await _revoked(router, sent):
        sent = None  # logged out: the cookie is worth nothing any more
    user = _identify(request, router, web, sent)
    page = Page(
        request,
        router,
        web,
        Translator(_language(request, web)),
        sent or Session.fresh(),
        sent,
        user,
    )
    if sent is None or (sent.user is not None and user is None):
        page.start_session(Session.fresh())  # a new visitor, or a session that ended
    return page


PageDep = Annotated[Page, Depends(get_page)]
