"""Live updates: PostgreSQL NOTIFY → server-sent events, only for the user's queues."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from services.router.notify import CHANNEL
from tests.integration.web.conftest import login


async def read_events(response: httpx.Response, into: list[tuple[str, str]]) -> None:
    event = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            into.append((event, line[6:]))


async def test_events_carry_the_users_queues_only(server: str, app: FastAPI) -> None:
    heard: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        await login(client, "alice")
        async with client.stream("GET", "/ui/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_events(response, heard))
            for _ in range(50):
                if heard:
                    break
                await asyncio.sleep(0.05)
            assert heard == [("ready", "")]
            pool = app.state.router.pool
            async with pool.acquire() as conn:
                for queue in ("housing", "energy_aid", "review"):
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, queue)
            for _ in range(100):
                if len(heard) >= 3:
                    break
                await asyncio.sleep(0.05)
            reader.cancel()
    assert heard[1:] == [("changed", "energy_aid"), ("changed", "review")]  # not housing


async def test_streams_end_by_themselves_and_the_listener_stops(server: str, app: FastAPI) -> None:
    web = app.state.web
    async with httpx.AsyncClient(base_url=server, timeout=20) as client:
        await login(client, "lena")
        started = asyncio.get_running_loop().time()
        async with client.stream("GET", "/ui/events") as response:
            async for _ in response.aiter_lines():
                pass  # ends after web_stream_max_s (5 s in the tests)
        assert asyncio.get_running_loop().time() - started < 10
    assert web.events.listening
    await web.events.close()
    assert not web.events.listening
