"""Web page fixtures: the router app with the page, in-process (httpx) or served by a
real uvicorn on a free port (for the browser), on a fresh migrated database."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.router.app import create_app
from services.router.web.routes import build_web
from services.router.web.settings import WebSettings
from stack.procs import free_port

# The router tests' fixtures: a migrated database, a pool, the routing rules, `store`.
from tests.integration.router.conftest import (  # noqa: F401
    USERS,
    pool,
    router_settings,
    routing,
    store,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_app(database_url: str, **web: Any) -> FastAPI:
    app = create_app(router_settings(database_url))
    state = app.state.router
    values: dict[str, Any] = {"web_session_secret": "test-secret", "web_stream_max_s": 5, **web}
    app.state.web = build_web(state, WebSettings(**values))
    return app


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def login(client: httpx.AsyncClient, user: str) -> httpx.Response:
    """Sign in through the form, as a browser would."""
    form = await client.get("/ui/login")
    token = USERS[user][0]
    return await client.post("/ui/login", data={"token": token, "csrf": csrf_of(form.text)})


@pytest.fixture
async def app(migrated_url: str) -> FastAPI:
    return web_app(migrated_url)


@pytest.fixture
async def page_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as client,
    ):
        yield client


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    """The app served over real HTTP (same event loop as the test)."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    for _ in range(200):
        if served.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert served.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
