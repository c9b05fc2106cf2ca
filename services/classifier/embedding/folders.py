"""Writing model folders atomically, with their per-file checksums."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from services.classifier.embedding import checksums


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
