"""Writing model folders atomically, with their per-file checksums."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from services.classifier.embedding import checksums

T = TypeVar("T")


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def file_entries(root: Path) -> dict[str, dict[str, object]]:
    """``{relative path: {"size", "sha256"}}`` of the files that define ``root``'s output."""
    return {
        name: {"size": (root / name).stat().st_size, "sha256": checksums.sha256_file(root / name)}
        for name in checksums.folder_files(root)
    }


def entries_digest(files: dict[str, dict[str, object]]) -> str:
    return checksums.digest_of({name: str(entry["sha256"]) for name, entry in files.items()})


def temp_sibling(out: Path) -> Path:
    """A fresh hidden sibling of ``out`` to assemble a folder in (same filesystem)."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    return tmp


def replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; an existing ``out`` is swapped out, then removed."""
    if not out.exists():
        tmp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def write_atomically(
    out: Path,
    write: Callable[[Path], T],
    replace: Callable[[Path, Path], None] = replace_dir,
) -> T:
    """Fill a temporary sibling with ``write(tmp)``, then ``replace(tmp, out)``.

    Readers never see a half-written ``out``; the temporary folder is removed
    whatever happens. ``write`` creates the folder itself.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(out)
    try:
        result = write(tmp)
        replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def write_manifest(root: Path, fields: dict[str, object]) -> None:
    """Stamp ``root`` with its build manifest: ``fields`` plus every file's checksum.

    Call it once every other file is in place: its mtime vouches for the files'
    cached checksums (see ``checksums.folder_digest``).
    """
    files = file_entries(root)
    manifest = {**fields, "weights_sha256": entries_digest(files), "files": files}
    write_json(root / checksums.BUILD_MANIFEST, manifest)


def build_folder(out: Path, write: Callable[[Path], None], step: str) -> dict[str, object]:
    """Build the model folder ``out`` (replacing it) with ``write``; return its manifest."""
    write_atomically(out, write)
    manifest = checksums.read_manifest(out)
    if manifest is None:
        raise RuntimeError(f"build manifest missing in {out} right after {step}")
    return manifest


def verify_files(root: Path, manifest: dict[str, object]) -> str | None:
    """None if ``root`` holds exactly the manifest's files with their checksums, else why not."""
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != checksums.folder_files(root):
        return "file list differs from the manifest"
    hashes = {name: checksums.sha256_file(root / name) for name in files}
    if any(hashes[n] != files[n].get("sha256") for n in files):
        return "a file's checksum differs from the manifest"
    if manifest.get("weights_sha256") != checksums.digest_of(hashes):
        return "weights checksum differs from the manifest"
    return None
