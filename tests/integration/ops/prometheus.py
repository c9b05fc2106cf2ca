"""A real Prometheus server for tests: Debian's `prometheus` on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from stack import procs


@dataclass
class Prometheus:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def api(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", expr
        result: list[dict[str, Any]] = data["result"]
        return result

    def scalar(self, expr: str) -> float | None:
        """The value of a single-series query, None when it has no series."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def wait_for(
        self, expr: str, ok: Callable[[float | None], bool], timeout: float = 120.0
    ) -> float | None:
        deadline = time.monotonic() + timeout
        value = self.scalar(expr)
        while not ok(value):
            if time.monotonic() > deadline:
                raise AssertionError(f"{expr} = {value} after {timeout:.0f}s")
            time.sleep(0.5)
            value = self.scalar(expr)
        return value


def scrape_config(jobs: dict[str, str], rule_files: list[Path]) -> dict[str, Any]:
    """One job per service (named like the ServiceMonitor's: triage-<service>), 1 s interval."""
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [urlsplit(url).netloc]}]}
            for job, url in jobs.items()
        ],
    }


@contextmanager
def prometheus(config: dict[str, Any], workdir: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus not found: install Debian's prometheus package (make system-deps)")
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = procs.free_port()
    args = [
        binary, f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        "--storage.tsdb.retention.time=1h",
    ]  # fmt: skip
    log_path = workdir / "prometheus.log"
    proc = procs.spawn(args, log_path)
    server = Prometheus(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        try:
            procs.wait_http_ok(f"{server.url}/-/ready", 60, proc)
        except Exception as exc:
            raise RuntimeError(
                f"prometheus did not start:\n{log_path.read_text()[-3000:]}"
            ) from exc
        yield server
    finally:
        procs.stop(proc)
