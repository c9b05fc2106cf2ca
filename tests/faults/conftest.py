"""Fault-injection tier: the whole local stack, broken on purpose, one stack per module.

The classifier here serves a model trained on the demo corpus with the
``hashing`` embedder (no weights, about a millisecond per text) instead of the
default e5-small: these tests are about delivery (nothing lost, nothing
duplicated), not accuracy, and 2,000 requests through e5 on two shared cores
would take minutes per scenario. The service code path is the same (masking,
batching, language, cues, gate, publish, commit); only the vectors differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.up import LocalStack
from tests.fixtures.services import corpus_rows


@pytest.fixture(scope="session")
def fault_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fast model trained once per session (about 15 s): hashing vectors, no TF-IDF."""
    import csv

    folder = tmp_path_factory.mktemp("fault-model")
    data = folder / "corpus.csv"
    rows = corpus_rows()
    with data.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = folder / "model"
    args = [
        sys.executable, "-m", "triage.cli", "train", "--data", str(data), "--out", str(out),
        "--embedder", "hashing", "--embedder-path", "64", "--features", "embedding",
        "--no-refit", "--no-progress", "--log-level", "WARNING",
    ]  # fmt: skip
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def stack_env(model: Path) -> dict[str, str]:
    return {
        "TRIAGE_MODEL_DIR": str(model),
        "TRIAGE_EMBEDDER_PATH": "64",
        # this tier owns its broker and database: it stops and restarts them
        "TRIAGE_LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fault_model: Path
) -> Iterator[LocalStack]:
    """One stack per module. A module that crashes PostgreSQL sets ``DURABLE_DATABASE``:
    the fast test settings (fsync and synchronous_commit off) lose the last commits in
    a crash, which would be the test's loss, not the router's."""
    for name in ("TRIAGE_KAFKA_BOOTSTRAP", "TRIAGE_DATABASE_URL"):
        if os.environ.get(name):
            pytest.skip(f"{name} names an outside server: this tier must own (and break) it")
    durable = getattr(request.module, "DURABLE_DATABASE", False)
    local = LocalStack(
        tmp_path_factory.mktemp("faults"), fast_db=not durable, extra_env=stack_env(fault_model)
    )
    try:
        local.start()
        yield local
    finally:
        local.stop(remove_data=True)  # its data folder may live outside tmp_path
