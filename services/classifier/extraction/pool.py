"""Extraction worker processes, bounded in CPU, memory and time.

A separate process per worker (spawned, not forked: the classifier's model and
inference threads stay out of it) so that a hostile file can at worst exhaust that
process: its address space is capped (``RLIMIT_AS``), it runs at a lower CPU
priority than classification (``nice``), and a file that takes longer than the
timeout gets its worker killed and replaced. A plain-text request is never queued
behind a scan: the classifier does not wait for this pool at all (the stage reads
its own topic).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.classifier.extraction.readers import Extracted, Limits, Unreadable, extract

log = logging.getLogger(__name__)


def _limit_worker(memory_bytes: int, niceness: int) -> None:
    """Runs first in each worker process."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    os.nice(niceness)
    # Tesseract's own threads would compete with classification for the two cores.
    os.environ["OMP_THREAD_LIMIT"] = "1"


def run_extract(content_type: str, data: bytes, limits: Limits) -> Extracted | str:
    """In the worker: the pages, or the problem code (exceptions stay in the worker)."""
    try:
        return extract(content_type, data, limits)
    except Unreadable as exc:
        return exc.problem


class ExtractionPool:
    def __init__(
        self, workers: int, memory_bytes: int, timeout_s: float, niceness: int = 10
    ) -> None:
        self.workers = workers
        self.memory_bytes = memory_bytes
        self.timeout_s = timeout_s
        self.niceness = niceness
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_worker,
            initargs=(self.memory_bytes, self.niceness),
        )

    async def extract(
        self, content_type: str, data: bytes, limits: Limits, timeout_s: float | None = None
    ) -> Extracted | str:
        """The pages of one file, or why it is unreadable ("timeout", "too_large"...)."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, run_extract, content_type, data, limits)
        timeout_s = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            log.warning("extraction timed out after %.0f s; replacing the workers", timeout_s)
            self._replace()
            return "timeout"
        except (BrokenProcessPool, MemoryError):  # the worker died (memory cap, crash)
            log.warning("an extraction worker died; replacing the workers")
            self._replace()
            return "too_large"

    def _replace(self) -> None:
        # ProcessPoolExecutor cannot cancel a running task: kill its processes instead.
        processes = list(getattr(self._pool, "_processes", {}).values())
        for process in processes:
            process.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
