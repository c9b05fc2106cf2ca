"""What the end-to-end benchmark measures besides HTTP: ceiling, raw producer, DB, memory."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from tqdm import tqdm

from shared.events import EVENT_TYPE_HEADER, RequestReceived, encode, request_id_for

log = logging.getLogger(__name__)

SINGLE_TEXTS = 50


def received_event(body: dict[str, Any]) -> RequestReceived:
    """The event ingest would publish for ``body`` (same fields, same size)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return RequestReceived(
        request_id=request_id_for(str(body["source"]), str(body["external_id"])),
        source=str(body["source"]),
        external_id=str(body["external_id"]),
        channel=body["channel"],  # type: ignore[arg-type]
        body=str(body["body"]),
        received_at=now,
        accepted_at=now,
    )


def masked_texts(events: Sequence[RequestReceived]) -> list[str]:
    """What the classifier embeds for each event: its full text, masked."""
    from shared.pii import mask

    return [mask(e.full_text()) for e in events]


@dataclass
class Ceiling:
    texts: int
    seconds: float
    batch_size: int
    pipeline_texts: int = 0
    pipeline_seconds: float = 0.0
    sample_predict_seconds: float = 0.0
    single_ms: dict[str, float] = field(default_factory=dict)

    @property
    def texts_per_s(self) -> float:
        return self.texts / self.seconds

    @property
    def pipeline_texts_per_s(self) -> float:
        return self.pipeline_texts / self.pipeline_seconds if self.pipeline_seconds else 0.0

    @property
    def sample_predict_texts_per_s(self) -> float:
        s = self.sample_predict_seconds
        return self.pipeline_texts / s if s else 0.0


def measure_ceiling(
    bodies: Sequence[dict[str, Any]], batch_size: int, pipeline_sample: int
) -> Ceiling:
    """The classifier's own embedder + model in this process, on the same (masked) texts.

    ``predict`` is what bounds the service (embed in one call per batch, both heads,
    nearest neighbours); the full ``classify`` (plus language, cues, event building)
    on a sample shows what the rest of the service's work costs; ``predict`` of one
    text at a time is the floor of a single request's latency.
    """
    from services.classifier.app import load_classifier
    from services.classifier.settings import ClassifierSettings

    classifier = load_classifier(ClassifierSettings())
    events = [received_event(b) for b in bodies]
    texts = masked_texts(events)
    classifier.model.predict(texts[:batch_size])  # warm-up: lazy initialisation
    start = time.perf_counter()
    for i in tqdm(range(0, len(texts), batch_size), desc="ceiling", unit="batch", leave=False):
        classifier.model.predict(texts[i : i + batch_size])
    ceiling = Ceiling(len(texts), time.perf_counter() - start, batch_size)
    singles = []
    for text in texts[:SINGLE_TEXTS]:  # the floor of any one request's latency
        t0 = time.perf_counter()
        classifier.model.predict([text])
        singles.append((time.perf_counter() - t0) * 1000)
    ceiling.single_ms = percentiles(singles)
    # predict and the full pipeline back to back on one sample: a fair ratio on busy cores
    sample = events[:pipeline_sample]
    start = time.perf_counter()
    for i in range(0, len(sample), batch_size):
        classifier.model.predict(texts[i : min(i + batch_size, len(sample))])
    ceiling.sample_predict_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(sample), batch_size):
        classifier.classify(sample[i : i + batch_size])
    ceiling.pipeline_texts, ceiling.pipeline_seconds = len(sample), time.perf_counter() - start
    del classifier
    gc.collect()
    return ceiling


async def raw_producer_rate(
    bootstrap: str, topic: str, bodies: Sequence[dict[str, Any]], concurrency: int, linger_ms: int
) -> tuple[float, float]:
    """(messages/s, wall s) of a bare aiokafka producer: ``concurrency`` tasks, each
    sending one message and awaiting its ack before the next, like ingest's handlers."""
    from aiokafka import AIOKafkaProducer

    messages = [(e.request_id.encode(), encode(e)) for e in map(received_event, bodies)]
    headers = [(EVENT_TYPE_HEADER, RequestReceived.model_fields["event_type"].default.encode())]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=linger_ms
    )
    await producer.start()
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(messages):
            key, value = messages[next_index]
            next_index += 1
            await (await producer.send(topic, value, key=key, headers=headers))

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    finally:
        await producer.stop()
    return len(messages) / wall, wall


class Database:
    """Counting and timing the benchmark's work items straight from PostgreSQL."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def queued(self, tag: str) -> int:
        rows = await self._fetch(
            "SELECT count(*) FROM work_items WHERE source = 'demo' AND external_id LIKE $1",
            f"{tag}-%",
        )
        return int(rows[0][0])

    async def wait_queued(self, tag: str, expected: int, timeout_s: float, label: str) -> int:
        bar = tqdm(total=expected, desc=label, unit="item", leave=False)
        deadline = time.monotonic() + timeout_s
        done = 0
        while time.monotonic() < deadline:
            done = await self.queued(tag)
            bar.update(done - bar.n)
            if done >= expected:
                break
            await asyncio.sleep(0.5)
        bar.close()
        return done

    async def span_s(self, tag: str) -> float:
        """First accepted_at to last queued_at of the tag's items (server clocks)."""
        rows = await self._fetch(
            "SELECT extract(epoch FROM max(queued_at) - min(accepted_at)) FROM work_items"
            " WHERE source = 'demo' AND external_id LIKE $1",
            f"{tag}-%",
        )
        return float(rows[0][0])

    async def latencies_ms(self, tag: str) -> dict[str, list[float]]:
        """accepted → queued, split at classified_at (the classifier's clock)."""
        rows = await self._fetch(
            "SELECT extract(epoch FROM queued_at - accepted_at) * 1000,"
            "       extract(epoch FROM classified_at - accepted_at) * 1000,"
            "       extract(epoch FROM queued_at - classified_at) * 1000"
            " FROM work_items WHERE source = 'demo' AND external_id LIKE $1",
            f"{tag}-%",
        )
        return {
            "total": [float(r[0]) for r in rows],
            "to_classified": [float(r[1]) for r in rows],
            "classified_to_queued": [float(r[2]) for r in rows],
        }

    async def duplicates(self, prefix: str) -> int:
        """Second items or second routings of one request, over every benchmark phase."""
        rows = await self._fetch(
            "SELECT (SELECT count(*) - count(DISTINCT external_id) FROM work_items"
            "         WHERE source = 'demo' AND external_id LIKE $1)"
            "     + (SELECT count(*) - count(DISTINCT a.request_id) FROM audit_events a"
            "         JOIN work_items w USING (request_id)"
            "         WHERE a.event = 'routed' AND w.source = 'demo' AND w.external_id LIKE $1)",
            f"{prefix}-%",
        )
        return int(rows[0][0])


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between closest ranks; 0.0 when empty.

    Same definition as ``statistics.quantiles(method="inclusive")`` (and numpy's
    default), but also defined for a single value.
    """
    if not values:
        return 0.0
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    return {f"p{q}": percentile(values, q) for q in (50, 95, 99)}


@dataclass
class MemoryMonitor:
    """Peak resident memory of each stack process, sampled in a thread.

    A service's peak is also read from the kernel's own high-water mark (VmHWM), so
    a short spike between two samples still counts. PostgreSQL is the sum of its
    server processes (each maps the shared buffers, so the sum overstates it).
    """

    pids: dict[str, int]
    interval_s: float = 0.5
    peak_mb: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        return {k: round(v, 1) for k, v in sorted(self.peak_mb.items())}

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            try:
                proc = psutil.Process(pid)
                tree = [proc, *proc.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree) / 2**20
                if name != "postgres":
                    rss = max(rss, proc_memory_mb(pid).get("hwm", 0.0))
            except psutil.Error:
                continue
            self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), rss)


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` from /proc (MB of 2**20 bytes); empty if unreadable."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss" if key == "VmRSS" else "hwm"] = int(value.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        return {}
    return out


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def scrape(url: str, names: Sequence[str]) -> dict[str, float]:
    """Sums of unlabelled-or-labelled Prometheus samples whose name is in ``names``."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in out:
            out[name] += float(line.rsplit(" ", 1)[-1])
    return out
