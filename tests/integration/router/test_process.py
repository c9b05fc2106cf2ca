"""`triage migrate` then `triage router` as real processes: ready, serving, and a clean
exit on SIGTERM; a bad configuration stops it at once with a clear message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.auth import hash_secret
from stack import procs
from tests.fixtures.stack import Topics

pytestmark = pytest.mark.timeout(180)


def _env(database_url: str, kafka: str, topics: Topics, group: str, port: int) -> dict[str, str]:
    users = {"lena": {"token_sha256": hash_secret("lena-token"), "queues": ["*"], "role": "lead"}}
    return {
        **os.environ,
        **topics.env(),
        "TRIAGE_DATABASE_URL": database_url,
        "TRIAGE_KAFKA_BOOTSTRAP": kafka,
        "TRIAGE_ROUTER_GROUP": group,
        "TRIAGE_ROUTER_USERS": json.dumps(users),
        "TRIAGE_INGEST_API_KEYS": json.dumps({"demo": hash_secret("demo-key")}),
        "TRIAGE_HOST": "127.0.0.1",
        "TRIAGE_PORT": str(port),
        "TRIAGE_GRACEFUL_TIMEOUT_S": "10",
    }


def test_migrate_run_and_stop(
    database_url: str, kafka_bootstrap: str, topics: Topics, unique_group: str, tmp_path: Path
) -> None:
    port = procs.free_port()
    env = _env(database_url, kafka_bootstrap, topics, unique_group, port)
    env["TRIAGE_ROUTER_TRUST_PROXY_HEADER"] = "true"
    env["TRIAGE_ROUTER_TRUSTED_PROXIES"] = '["10.0.0.0/8"]'
    cli = [sys.executable, "-m", "triage.cli"]
    migrated = subprocess.run([*cli, "migrate"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied: 0001_init" in migrated.stdout
    log = tmp_path / "router.log"
    proc = procs.spawn([*cli, "router"], log, env)
    try:
        procs.wait_http_ok(f"http://127.0.0.1:{port}/readyz", 60, proc)
        queues = httpx.get(
            f"http://127.0.0.1:{port}/v1/queues", headers={"Authorization": "Bearer lena-token"}
        )
        assert queues.status_code == 200 and len(queues.json()["queues"]) == 11
        # The proxy check sees the real peer (127.0.0.1), not what X-Forwarded-For claims.
        spoofed = {"X-Auth-User": "lena", "X-Forwarded-For": "10.0.0.5"}
        refused = httpx.get(f"http://127.0.0.1:{port}/v1/queues", headers=spoofed)
        assert refused.status_code == 401, refused.text
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down cleanly
        assert proc.wait(30) in (0, -signal.SIGTERM)
        assert time.monotonic() - start < 20
    finally:
        procs.stop(proc)
    text = log.read_text()
    assert "router stopped" in text and "Traceback" not in text


def _start_refused(
    database_url: str, topics: Topics, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`triage router` with ``settings`` added, expected to stop at start-up."""
    env = {**_env(database_url, "127.0.0.1:1", topics, "g", procs.free_port()), **settings}
    return subprocess.run(
        [sys.executable, "-m", "triage.cli", "router"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_trusting_the_proxy_header_from_anywhere_stops_the_router(
    database_url: str, topics: Topics
) -> None:
    done = _start_refused(database_url, topics, TRIAGE_ROUTER_TRUST_PROXY_HEADER="true")
    assert done.returncode == 2
    assert "TRIAGE_ROUTER_TRUSTED_PROXIES is empty" in done.stderr


def test_unmigrated_database_stops_the_router(
    database_url: str, tmp_path: Path, topics: Topics
) -> None:
    done = _start_refused(database_url, topics, TRIAGE_ROUTER_CONSUMER_ENABLED="false")
    assert done.returncode != 0
    assert "run `triage migrate`" in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRIAGE_ROUTER_RULES", "/nonexistent/rules.yaml", "cannot read routing rules"),
        ("TRIAGE_ROUTER_USERS", '{"x": {"queues": []}}', "user 'x': queues"),
        ("TRIAGE_INGEST_API_KEYS", '{"demo": "plain"}', "expected 'sha256:<64 hex>'"),
        ("TRIAGE_ROUTER_LEASE_S", "1", "router_lease_s"),
    ],
)
def test_invalid_configuration_exits_2(
    variable: str, value: str, message: str, topics: Topics
) -> None:
    env = _env("postgresql://x@127.0.0.1:1/x", "127.0.0.1:1", topics, "g", procs.free_port())
    env[variable] = value
    done = subprocess.run(
        [sys.executable, "-m", "triage.cli", "router"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "invalid configuration" in done.stderr and message in done.stderr
