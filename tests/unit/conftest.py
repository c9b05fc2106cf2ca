"""The unit tier runs no external process and opens no network connection.

Enforced rather than promised: ``make unit`` installs no Debian package and
starts no service, so a unit test that reached for a tool or a server would pass
on one machine and fail on the next. Such a test belongs in tests/ops (external
tools) or tests/integration (real services).
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any, NoReturn

import pytest


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"a unit test {what}; move it to tests/ops or tests/integration")

    return refuse


@pytest.fixture(autouse=True)
def _no_processes_or_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # _execute_child, not __init__: Popen still cleans up its pipes when it fails.
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse("started a process"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("opened a network connection"))
    monkeypatch.setattr(socket, "create_connection", _refuse("opened a network connection"))
