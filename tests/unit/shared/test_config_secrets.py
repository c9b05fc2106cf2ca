"""A secret pasted in the wrong place never appears in the start-up error: the
message names the setting and the problem, the process exits 2 with one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.router.app import create_app as create_router
from services.router.settings import RouterSettings
from shared.serve import run

SECRET = "plain-Secret-4f1c9a"  # what an operator pasted instead of its hash


def _file(variable: str, tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return {variable: str(path)}


CASES: dict[str, Callable[[Path], dict[str, str]]] = {
    "api key in clear": lambda _: {"TRIAGE_INGEST_API_KEYS": json.dumps({"demo": SECRET})},
    "api keys not json": lambda _: {"TRIAGE_INGEST_API_KEYS": SECRET},
    "api keys file in clear": lambda tmp: _file(
        "TRIAGE_INGEST_API_KEYS_FILE", tmp, f"demo: {SECRET}\n"
    ),
    "api keys file broken yaml": lambda tmp: _file(
        "TRIAGE_INGEST_API_KEYS_FILE", tmp, f"demo: {SECRET}: oops\n  x: [\n"
    ),
    "user token in clear": lambda _: {
        "TRIAGE_ROUTER_USERS": json.dumps({"a": {"token_sha256": SECRET, "queues": ["x"]}})
    },
    "users not json": lambda _: {"TRIAGE_ROUTER_USERS": SECRET},
    "users file in clear": lambda tmp: _file(
        "TRIAGE_ROUTER_USERS_FILE", tmp, f"a:\n  token_sha256: {SECRET}\n  queues: [x]\n"
    ),
    "users file broken yaml": lambda tmp: _file(
        "TRIAGE_ROUTER_USERS_FILE", tmp, f"a:\n  token_sha256: {SECRET}: oops\n  queues: [x\n"
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("service", ["router", "ingest"])
def test_start_up_errors_never_print_the_secret(
    case: str,
    service: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = CASES[case](tmp_path)
    if service == "ingest" and not any("INGEST" in k for k in env):
        pytest.skip("a router-only setting")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if service == "router":
        code = run("router", RouterSettings, create_router)  # type: ignore[arg-type]
    else:
        code = run("ingest", IngestSettings, create_ingest)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"triage {service}: invalid configuration: ") and err.count("\n") == 1
    assert SECRET not in err and SECRET.lower() not in err.lower()
