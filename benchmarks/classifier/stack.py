"""The classifier benchmark's moving parts: a private broker, one classifier process,
a producer of ``request.received`` events and a reader of the results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmarks.classifier.report import Phase
from benchmarks.e2e.measure import MemoryMonitor, proc_memory_mb
from shared.events import EVENT_TYPE_HEADER, RECEIVED_V1
from stack import procs
from stack.tansu import TansuBroker

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 300.0
RSS_INTERVAL_S = 0.1
BUSY_EXTRA = ("nice", "irq", "softirq")
HEADERS = [(EVENT_TYPE_HEADER, RECEIVED_V1.encode())]

Message = tuple[str, bytes]  # (request id, encoded RequestReceived)


@dataclass
class ServiceStack:
    """tansu + one `triage classifier` on topics and a group of its own."""

    state_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: str(os.getpid()))
    broker: TansuBroker | None = None
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    monitor: MemoryMonitor | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def topic(self, kind: str) -> str:
        return f"bench-{self.run_id}.request.{kind}"

    def start(self) -> None:
        logs = self.state_dir / "logs"
        self.broker = TansuBroker(logs)
        bootstrap = self.broker.start()
        self.port = procs.free_port()
        self.env = {
            **os.environ,
            "TRIAGE_KAFKA_BOOTSTRAP": bootstrap,
            "TRIAGE_TOPIC_RECEIVED": self.topic("received"),
            "TRIAGE_TOPIC_CLASSIFIED": self.topic("classified"),
            "TRIAGE_TOPIC_DEADLETTER": self.topic("deadletter"),
            "TRIAGE_CLASSIFIER_GROUP_ID": f"bench-{self.run_id}-classifier",
            **self.extra_env,
            "TRIAGE_HOST": "127.0.0.1",
            "TRIAGE_PORT": str(self.port),
        }
        args = [sys.executable, "-m", "triage.cli", "classifier"]
        self.proc = procs.spawn(args, logs / "classifier.log", self.env)
        # sampled from the spawn on, so the model load's peak counts too
        pids = {k: v for k, v in self.pids().items() if k != "bench"}
        self.monitor = MemoryMonitor(pids, interval_s=RSS_INTERVAL_S)
        self.monitor.start()
        procs.wait_http_ok(f"{self.url}/readyz", READY_TIMEOUT_S, self.proc)
        log.info("classifier ready on %s (pid %d)", self.url, self.proc.pid)

    @property
    def bootstrap(self) -> str:
        return self.env["TRIAGE_KAFKA_BOOTSTRAP"]

    def pids(self) -> dict[str, int]:
        """The processes whose CPU the benchmark accounts for, by name."""
        out = {"bench": os.getpid()}
        if self.proc is not None:
            out["classifier"] = self.proc.pid
        if self.broker is not None and self.broker.proc is not None:
            out["tansu"] = self.broker.proc.pid
        return out

    def memory_mb(self, label: str) -> dict[str, Any]:
        """The service's resident memory now and its high-water mark so far, in MB."""
        out: dict[str, Any] = {"at": label}
        if self.proc is not None:
            out.update(proc_memory_mb(self.proc.pid))
        return out

    def peak_rss_mb(self) -> dict[str, float]:
        return self.monitor.stop() if self.monitor is not None else {}

    def stop(self) -> None:
        """Idempotent; called from ``finally`` so that nothing outlives the bench."""
        if self.proc is not None:
            procs.stop(self.proc, timeout=30)
            self.proc = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


class Freezer:
    """Keeps the idle service off the cores while the bench measures in-process.

    An idle classifier polls the broker all the time; the two took about 0.1 core,
    which cost bare ``encode`` 5-10% on 2 cores (two onnxruntime threads wait for each
    other, so any other runnable thread stalls both). The service is stopped
    (SIGSTOP) at most ``slice_s`` at a time, then resumed for ``thaw_s`` so that its
    heartbeats keep it in its consumer group (session timeout 6 s by default).
    """

    def __init__(self, pid: int | None, slice_s: float = 2.5, thaw_s: float = 1.3) -> None:
        self.pid, self.slice_s, self.thaw_s = pid, slice_s, thaw_s

    def timed(self, steps: Sequence[Callable[[], object]]) -> float:
        """Run every step; return the seconds they took, the thaws left out."""
        total, i = 0.0, 0
        while i < len(steps):
            if i:
                time.sleep(self.thaw_s)
            with self._frozen():
                start = time.perf_counter()
                while True:  # at least one step per slice, whatever its length
                    steps[i]()
                    i += 1
                    if i == len(steps) or time.perf_counter() - start >= self.slice_s:
                        break
                total += time.perf_counter() - start
        return total

    @contextlib.contextmanager
    def _frozen(self) -> Iterator[None]:
        if self.pid is None:
            yield
            return
        os.kill(self.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.pid, signal.SIGCONT)  # always: a stopped service would never stop


class Results:
    """Every classified (and dead-lettered) request id with the time its record was read.

    Reads the topics without a consumer group from their start (they are private to
    this run), with the pipeline's own fetch wait, so a request's latency includes the
    fetch delay any downstream consumer would see.
    """

    def __init__(self, bootstrap: str, classified: str, deadletter: str, fetch_wait_ms: int):
        self.classified, self.deadletter = classified, deadletter
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms
        )
        self.received_at: dict[str, float] = {}
        self.dead: set[str] = set()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        tps: list[TopicPartition] = []
        for topic in (self.classified, self.deadletter):
            partitions = await self._partitions(topic)
            tps += [TopicPartition(topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._read())

    async def _partitions(self, topic: str, wait_s: float = 30.0) -> set[int]:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if partitions := self.consumer.partitions_for_topic(topic):
                return set(partitions)
            await self.consumer._client.force_metadata_update()  # created by the service
            await asyncio.sleep(0.1)
        raise TimeoutError(f"topic {topic} has no partitions after {wait_s:.0f} s")

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for tp, records in batch.items():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    if tp.topic == self.classified:
                        self.received_at.setdefault(key, now)
                    else:
                        self.dead.add(key)
            if batch:
                self._arrived.set()

    async def wait_for(self, ids: Iterable[str], timeout_s: float) -> int:
        """Wait until every id is classified or dead-lettered; return how many are not."""
        pending = set(ids)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            self._arrived.clear()
            pending = {i for i in pending if i not in self.received_at and i not in self.dead}
            if pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), 1.0)
        return len(pending)

    def phase(self, sent_at: dict[str, float]) -> Phase:
        got = {k: self.received_at[k] for k in sent_at if k in self.received_at}
        dead = sum(1 for k in sent_at if k in self.dead and k not in got)
        return Phase(sent_at, got, dead)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


class Feeder:
    """Produces encoded ``request.received`` events as ingest would (acks=all)."""

    def __init__(self, bootstrap: str, topic: str, linger_ms: int) -> None:
        self.topic = topic
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=linger_ms
        )

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def _send(self, message: Message) -> asyncio.Future[object]:
        rid, value = message
        return await self.producer.send(self.topic, value, key=rid.encode(), headers=HEADERS)

    async def send(
        self, messages: Sequence[Message], rate_per_s: float | None = None
    ) -> dict[str, float]:
        """All at once, or message ``i`` at ``start + i / rate`` without waiting for
        earlier acks; returns each id's produce time once the broker acked them all."""
        sent_at: dict[str, float] = {}
        acks = []
        start = time.perf_counter()
        for i, message in enumerate(messages):
            delay = start + i / rate_per_s - time.perf_counter() if rate_per_s else 0.0
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at[message[0]] = time.perf_counter()
            acks.append(await self._send(message))
        await asyncio.gather(*acks)
        return sent_at


class CpuMeter:
    """CPU seconds of named processes over a phase, and cores used by everything else.

    The machine is shared: "other" says how much a phase was disturbed, and CPU
    seconds per text compare the service with ``encode`` whatever the others did.
    The bench process is counted without its children (they are named separately).
    """

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._t0 = self._busy0 = 0.0
        self._cpu0: dict[str, float] = {}

    def _cpu(self) -> dict[str, float]:
        out = {}
        for name, proc in self.procs.items():
            tree = [proc] if proc.pid == os.getpid() else [proc, *_children(proc)]
            out[name] = sum(_cpu_s(p) for p in tree)
        return out

    @staticmethod
    def _busy() -> float:
        # guest time is already inside user time on Linux: not summed twice
        t = psutil.cpu_times()
        return float(t.user + t.system + sum(getattr(t, f, 0.0) for f in BUSY_EXTRA))

    def start(self) -> CpuMeter:
        self._t0, self._busy0, self._cpu0 = time.monotonic(), self._busy(), self._cpu()
        return self

    def stop(self) -> dict[str, Any]:
        wall = max(time.monotonic() - self._t0, 1e-9)
        busy = (self._busy() - self._busy0) / wall
        cpu = {k: v - self._cpu0.get(k, 0.0) for k, v in self._cpu().items()}
        cores = {k: v / wall for k, v in cpu.items()}
        cores["other"] = max(busy - sum(cores.values()), 0.0)
        return {"seconds": wall, "cpu_s": cpu, "cores": cores}


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return list(proc.children(recursive=True))
    except psutil.Error:
        return []


def _cpu_s(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)
