"""An optional local Prometheus for `triage up --prometheus` (`make run PROMETHEUS=1`).

Debian's ``prometheus`` package, scraping the three services with the alert rules
of ``deploy/prometheus/alerts.yml``, so that ops can try queries and see alerts
(pending/firing at ``/alerts``) on a laptop. Jobs are named like the Kubernetes
ServiceMonitor's (``triage-<service>``), so the rules' selectors match unchanged.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from stack import procs

log = logging.getLogger(__name__)
ALERTS = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "alerts.yml"
PORT = 9090


def config(services: dict[str, str], rule_files: list[Path]) -> dict[str, Any]:
    """Scrape every service every 15 s (the cluster's interval) and evaluate the rules."""
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": f"triage-{name}", "static_configs": [{"targets": [urlsplit(url).netloc]}]}
            for name, url in services.items()
        ],
    }


def start(state_dir: Path, services: dict[str, str], port: int) -> tuple[Any, str]:
    """Start Prometheus; (process, URL). RuntimeError when the package is missing."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus not found: install Debian's prometheus (make system-deps)")
    workdir = state_dir / "prometheus"
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config(services, [ALERTS])))
    args = [
        binary, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=7d",
    ]  # fmt: skip
    proc: subprocess.Popen[bytes] = procs.spawn(args, state_dir / "logs" / "prometheus.log")
    url = f"http://127.0.0.1:{port}"
    procs.wait_http_ok(f"{url}/-/ready", 60, proc)
    return proc, url
