"""The model store: immutable version folders and the pointer to the active one.

Layout of ``TRIAGE_MODEL_STORE``::

    <version>/           one model artifact per version (``m-<hash>``), never modified
    reports/<version>/   its evaluation report (metrics JSON and plots)
    active.json          {"version": ..., "shadow": [...]}: what every replica serves

The registry of versions is in PostgreSQL (``triage models``, ``triage promote``);
``active.json`` is its projection for the classifiers, rewritten atomically
(temporary file + rename) after each promotion or rollback, so a replica reads
either the old pointer or the new one, never half of one. A plain folder works
the same on a laptop and in Kubernetes (a ReadWriteMany volume mounted by the
classifiers and the retraining job). Serving reads this module only: no training.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

POINTER = "active.json"
REPORTS = "reports"
_VERSION = re.compile(r"^m-[0-9a-f]{16}$")


class StoreError(ValueError):
    """A version name or pointer that cannot be trusted."""


def check_version(version: str) -> str:
    """A version is a folder name: refuse anything else (no path tricks)."""
    if not _VERSION.match(version):
        raise StoreError(f"{version!r} is not a model version (m-<16 hex digits>)")
    return version


def version_dir(store: Path, version: str) -> Path:
    return store / check_version(version)


def report_dir(store: Path, version: str) -> Path:
    return store / REPORTS / check_version(version)


@dataclass(frozen=True)
class ActivePointer:
    version: str
    shadow: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "shadow": list(self.shadow)}) + "\n"


def read_active(store: Path) -> ActivePointer | None:
    """The pointer, or None when nothing was promoted yet (or it is unreadable)."""
    try:
        data = json.loads((store / POINTER).read_text(encoding="utf-8"))
        return ActivePointer(
            check_version(str(data["version"])),
            tuple(check_version(str(v)) for v in data.get("shadow", [])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_active(store: Path, pointer: ActivePointer) -> None:
    """Replace the pointer atomically (readers see the old or the new file)."""
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".active.", dir=store)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(pointer.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, store / POINTER)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
