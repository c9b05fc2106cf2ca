"""Live refresh of the queues overview: PostgreSQL LISTEN → server-sent events.

One dedicated connection per process listens on ``triage_queue_changed`` (the
router's notifier sends one notification per changed queue every 250 ms, from
whichever replica made the change) and fans the queue names out to the open
pages. It connects when the first page subscribes and is closed when the app
stops. If the connection drops, every open stream ends; browsers reconnect by
themselves and the next subscription opens a new connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from services.router.notify import CHANNEL

log = logging.getLogger(__name__)

Inbox = asyncio.Queue[str | None]  # a queue name, or None: the stream must end


class QueueEvents:
    def __init__(self, dsn: str, inbox_size: int = 100) -> None:
        self._dsn = dsn
        self._inbox_size = inbox_size
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._inboxes: set[Inbox] = set()
        self._closed = False

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def _connect(self) -> None:
        async with self._lock:
            if self._closed:
                raise RuntimeError("live updates are stopped")
            if self.listening:
                return
            conn = await asyncpg.connect(self._dsn, timeout=5)
            conn.add_termination_listener(self._terminated)
            await conn.add_listener(CHANNEL, self._heard)
            self._conn = conn
            log.info("listening on %s for live page updates", CHANNEL)

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        for inbox in list(self._inboxes):
            # A full inbox is a slow page; it refreshes everything on its next event anyway.
            with suppress(asyncio.QueueFull):
                inbox.put_nowait(payload)

    def _terminated(self, _conn: Any) -> None:
        if not self._closed:
            log.warning("live update connection lost; open pages will reconnect")
        self._conn = None
        self._end_all()

    def _end_all(self) -> None:
        for inbox in list(self._inboxes):
            if inbox.full():
                inbox.get_nowait()  # the end marker matters more than one refresh
            inbox.put_nowait(None)

    async def start(self) -> None:
        """Make sure the listening connection is up (raises if the database is not)."""
        if not self.listening:
            await self._connect()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Inbox]:
        """An inbox of changed queue names while the context is open."""
        await self.start()
        inbox: Inbox = asyncio.Queue(self._inbox_size)
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            self._end_all()
            conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                conn.terminate()


def sse(event: str, data: str) -> str:
    """One server-sent event; ``data`` is a queue name (no newlines by construction)."""
    return f"event: {event}\ndata: {data.replace(chr(10), ' ')}\n\n"


async def stream(
    inbox: Inbox,
    visible: Callable[[str], bool],
    max_s: float,
    keepalive_s: float = 10.0,
) -> AsyncIterator[str]:
    """Events for the queues a user may see, for at most ``max_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_s
    yield "retry: 1000\n\n"
    yield sse("ready", "")
    while (remaining := deadline - loop.time()) > 0:
        try:
            queue = await asyncio.wait_for(inbox.get(), timeout=min(remaining, keepalive_s))
        except TimeoutError:
            yield ": keepalive\n\n"
            continue
        if queue is None:
            return
        if visible(queue):
            yield sse("changed", queue)
