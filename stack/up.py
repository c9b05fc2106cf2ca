"""`triage up`: the whole local stack on real components, stopped cleanly on Ctrl-C.

Starts (unless the environment names existing ones) a tansu broker and a
private PostgreSQL server, applies migrations, starts ingest, classifier and
router, waits until each is ready, writes ``<state>/stack.env`` and prints
where everything listens.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from shared.auth import hash_secret, new_secret
from stack import procs
from stack.postgres import PostgresServer
from stack.tansu import TansuBroker

log = logging.getLogger(__name__)

SERVICES = ("ingest", "classifier", "router")
DEFAULT_PORTS = {"ingest": 8001, "classifier": 8002, "router": 8003}
READY_TIMEOUT = {"ingest": 60.0, "classifier": 300.0, "router": 60.0}


@dataclass
class Service:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class LocalStack:
    """The local stack as a Python object, used by `triage up`, tests and benchmarks."""

    state_dir: Path
    services: tuple[str, ...] = SERVICES
    fixed_ports: bool = False
    fast_db: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    broker: TansuBroker | None = None
    postgres: PostgresServer | None = None
    running: dict[str, Service] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **self.extra_env}
        self.env.setdefault("TRIAGE_KAFKA_BOOTSTRAP", self._start_broker())
        self.env.setdefault("TRIAGE_DATABASE_URL", self._start_postgres())
        self.env.update(self._demo_credentials())
        if {"router", "ingest"} & set(self.services):  # both need the schema
            self._migrate()
        for name in self.services:
            self.start_service(name)
        self.write_env_file()

    def _start_broker(self) -> str:
        self.broker = TansuBroker(self.state_dir / "logs")
        return self.broker.start()

    def _start_postgres(self) -> str:
        self.postgres = PostgresServer(self.state_dir / "postgres", fast=self.fast_db)
        self.postgres.start()
        _create_database(self.postgres, "triage")
        return self.postgres.dsn_for("triage")

    def _demo_credentials(self) -> dict[str, str]:
        """Stable demo secrets kept in the state folder (not in the repo)."""
        path = self.state_dir / "demo-secrets.json"
        if path.exists():
            secrets = json.loads(path.read_text())
        else:
            secrets = {"api_key": new_secret(), "lead_token": new_secret()}
        if "identity_key" not in secrets:  # state folders from before the key existed
            secrets["identity_key"] = new_secret()
            path.write_text(json.dumps(secrets))
            path.chmod(0o600)
        users = {"demo-lead": {"token_sha256": hash_secret(secrets["lead_token"]),
                               "queues": ["*"], "role": "lead"}}  # fmt: skip
        return {
            "TRIAGE_INGEST_API_KEYS": json.dumps({"demo": hash_secret(secrets["api_key"])}),
            "TRIAGE_ROUTER_USERS": json.dumps(users),
            "TRIAGE_DEMO_API_KEY": secrets["api_key"],
            "TRIAGE_DEMO_LEAD_TOKEN": secrets["lead_token"],
            "TRIAGE_IDENTITY_HASH_KEY": secrets["identity_key"],
        }

    def _migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "triage.cli", "migrate"], env=self.env, check=True)

    def _port(self, name: str) -> int:
        if self.fixed_ports:
            port = DEFAULT_PORTS[name]
            if _port_free(port):
                return port
        return procs.free_port()

    def start_service(self, name: str, wait: bool = True) -> Service:
        """(Re)start one service; also used by fault-injection tests after a kill."""
        previous = self.running.get(name)
        service = Service(name, previous.port if previous else self._port(name))
        env = {**self.env, "TRIAGE_HOST": "127.0.0.1", "TRIAGE_PORT": str(service.port)}
        args = [sys.executable, "-m", "triage.cli", name]
        service.proc = procs.spawn(args, self.state_dir / "logs" / f"{name}.log", env)
        self.running[name] = service
        if wait:
            procs.wait_http_ok(f"{service.url}/readyz", READY_TIMEOUT[name], service.proc)
        log.info("%s ready on %s", name, service.url)
        return service

    def stop_service(self, name: str, kill: bool = False) -> None:
        service = self.running[name]
        if service.proc is not None:
            if kill:
                procs.kill9(service.proc)
            else:
                procs.stop(service.proc, timeout=30)

    def write_env_file(self) -> Path:
        lines = {
            "TRIAGE_KAFKA_BOOTSTRAP": self.env["TRIAGE_KAFKA_BOOTSTRAP"],
            "TRIAGE_DATABASE_URL": self.env["TRIAGE_DATABASE_URL"],
            **{f"TRIAGE_{s.name.upper()}_URL": s.url for s in self.running.values()},
            "TRIAGE_DEMO_SOURCE": "demo",
            "TRIAGE_DEMO_API_KEY": self.env["TRIAGE_DEMO_API_KEY"],
            "TRIAGE_DEMO_LEAD_USER": "demo-lead",
            "TRIAGE_DEMO_LEAD_TOKEN": self.env["TRIAGE_DEMO_LEAD_TOKEN"],
        }
        path = self.state_dir / "stack.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        path.chmod(0o600)
        return path

    def stop(self, remove_data: bool = False) -> None:
        """Stop everything; the database's data goes too when asked for, or when
        it was throw-away anyway (tests, or a folder we had to create in /tmp)."""
        for name in reversed(list(self.running)):
            self.stop_service(name)
        if self.broker:
            self.broker.stop()
        if self.postgres is None:
            return
        if remove_data or self.fast_db or self.postgres.temporary:
            self.postgres.remove()
        else:
            self.postgres.stop()

    def describe(self) -> str:
        rows = [f"  broker      {self.env['TRIAGE_KAFKA_BOOTSTRAP']}",
                f"  postgres    {self.env['TRIAGE_DATABASE_URL']}"]  # fmt: skip
        rows += [f"  {s.name:<11} {s.url}" for s in self.running.values()]
        rows += [
            f"  stack.env   {self.state_dir / 'stack.env'}",
            f"  logs        {self.state_dir / 'logs'}",
        ]
        return "\n".join(rows)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _create_database(server: PostgresServer, name: str) -> None:
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(server.dsn)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())


def _start_prometheus(stack: LocalStack) -> subprocess.Popen[bytes]:
    from stack import prometheus

    port = prometheus.PORT if _port_free(prometheus.PORT) else procs.free_port()
    urls = {s.name: s.url for s in stack.running.values()}
    proc, url = prometheus.start(stack.state_dir, urls, port)
    log.info("prometheus on %s (alerts: %s/alerts)", url, url)
    return proc


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        procs.stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="triage up", description=__doc__)
    parser.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get("TRIAGE_STATE_DIR", ".triage"))
    )
    parser.add_argument("--only", nargs="*", choices=SERVICES, help="start only these services")
    parser.add_argument(
        "--prometheus",
        action="store_true",
        help="also start a local Prometheus (Debian package) with the alert rules",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s up: %(message)s")
    stack = LocalStack(args.state_dir.resolve(), tuple(args.only or SERVICES), fixed_ports=True)
    stopping = threading.Event()
    started = threading.Event()
    monitor: subprocess.Popen[bytes] | None = None

    def on_signal(*_: object) -> None:
        stopping.set()
        if not started.is_set():
            raise KeyboardInterrupt  # abort a start in progress

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        stack.start()
        if args.prometheus:
            monitor = _start_prometheus(stack)
        started.set()
        print(f"\nTriage is up:\n{stack.describe()}\n\nCtrl-C stops everything.", flush=True)
        while not stopping.wait(1.0):
            for service in stack.running.values():
                if service.proc is not None and service.proc.poll() is not None:
                    log.error(
                        "%s exited with %s; stopping the stack",
                        service.name,
                        service.proc.returncode,
                    )
                    stopping.set()
    except (Exception, KeyboardInterrupt) as exc:
        if not isinstance(exc, KeyboardInterrupt):
            log.exception("the stack could not start; see the logs in %s", args.state_dir / "logs")
        _stop(monitor)
        stack.stop()
        return 1
    print("stopping...", flush=True)
    _stop(monitor)
    stack.stop()
    print("stopped.", flush=True)
    return 0
