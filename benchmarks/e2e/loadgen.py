"""A lean HTTP/1.1 load generator for ``POST /v1/requests``.

It shares the machine's cores with the services it measures, so it does as
little as possible per request: bodies are serialised before the clock starts,
each connection is a kept-alive asyncio stream, and a response is read as status
line + headers + Content-Length bytes. Two modes: closed loop (``concurrency``
requests always in flight, as fast as the server answers) and open loop (a fixed
arrival rate, whatever the answers do).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm import tqdm


class HttpError(Exception):
    pass


@dataclass
class Outcome:
    index: int
    status: int  # 0: no answer (connection failed)
    sent_s: float  # time.perf_counter() when the request was written
    answered_s: float
    items: int = 0  # requests accepted by this call (1 for a 202; the count for a batch)


def accepted_items(status: int, body: bytes) -> int:
    """Requests one answer accepted: a 202 is one; a batch answer says how many."""
    if status == 202:
        return 1
    if status in (200, 503) and body.startswith(b"{"):
        return int(json.loads(body).get("accepted", 0))
    return 0


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    started_s: float = 0.0
    finished_s: float = 0.0

    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 202]

    @property
    def items(self) -> int:
        return sum(o.items for o in self.outcomes)

    @property
    def wall_s(self) -> float:
        return self.finished_s - self.started_s


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(f"cannot connect: {exc}") from exc

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """One exchange; a kept-alive connection the server closed meanwhile (uvicorn
        drops idle ones after 5 s) is reopened once. Safe to resend: ingest is
        idempotent on (source, external_id)."""
        reused = self.writer is not None
        try:
            return await self._exchange(raw)
        except HttpError:
            if not reused:
                raise
        return await self._exchange(raw)

    async def _exchange(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status, length = _parse_head(head)
            body = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            await self.close()
            raise HttpError(str(exc) or type(exc).__name__) from exc
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _parse_head(head: bytes) -> tuple[int, int]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, length


def encode_posts(
    base_url: str, key: str, bodies: Sequence[object], path: str = "/v1/requests"
) -> list[bytes]:
    """Each body as the complete bytes of an HTTP/1.1 POST to ``path``."""
    host = base_url.split("://", 1)[-1].rstrip("/")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    out = []
    for body in bodies:
        data = json.dumps(body, ensure_ascii=False).encode()
        out.append(head + b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    return out


def _address(base_url: str) -> tuple[str, int]:
    host, _, port = base_url.split("://", 1)[-1].rstrip("/").partition(":")
    return host, int(port or 80)


async def _post(conn: Connection, posts: list[bytes], i: int, run: Run) -> None:
    """Send post ``i`` and record its outcome; a broken connection counts as status 0."""
    sent = time.perf_counter()
    try:
        status, body = await conn.request(posts[i])
    except HttpError:
        status, body = 0, b""
    answered = time.perf_counter()
    run.outcomes.append(Outcome(i, status, sent, answered, accepted_items(status, body)))


async def closed_loop(base_url: str, posts: list[bytes], concurrency: int, label: str) -> Run:
    """Every post once, ``concurrency`` in flight at any time."""
    host, port = _address(base_url)
    run = Run()
    next_index = 0
    bar = tqdm(total=len(posts), desc=label, unit="req", leave=False)

    async def worker() -> None:
        nonlocal next_index
        conn = Connection(host, port)
        while next_index < len(posts):
            i = next_index
            next_index += 1
            await _post(conn, posts, i, run)
            bar.update()
        await conn.close()

    run.started_s = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.finished_s = time.perf_counter()
    bar.close()
    return run


async def open_loop(
    base_url: str, posts: list[bytes], rate_per_s: float, label: str, connections: int = 32
) -> Run:
    """Post ``i`` at ``start + i / rate`` whatever the previous answers did."""
    host, port = _address(base_url)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(Connection(host, port))
    run = Run()
    bar = tqdm(total=len(posts), desc=label, unit="req", leave=False)

    async def send(i: int) -> None:
        conn = await idle.get()
        await _post(conn, posts, i, run)
        idle.put_nowait(conn)
        bar.update()

    tasks = []
    run.started_s = time.perf_counter()
    for i in range(len(posts)):
        delay = run.started_s + i / rate_per_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)
    run.finished_s = time.perf_counter()
    bar.close()
    while not idle.empty():
        await idle.get_nowait().close()
    return run
