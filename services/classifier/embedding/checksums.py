"""Checksums that identify an embedder's weights (EmbedderSpec.weights_sha256).

A model folder is identified by a digest over the sha256 of every file that
shapes its output (weights, tokenizer, module configs): one line
``<relative path>\\t<sha256>\\n`` per file, sorted by path, hashed again. The
build manifest (``triage-build.json``) is excluded since it only describes the
folder, and it caches the per-file checksums so that loading the 241 MB e5
folder does not re-hash it on every start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

BUILD_MANIFEST = "triage-build.json"
_CHUNK = 1 << 20
# Files that describe a folder without changing what it computes.
_EXCLUDED = {BUILD_MANIFEST, "README.md", ".gitattributes"}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def digest_of(file_hashes: Mapping[str, str]) -> str:
    """Combine per-file checksums into one, independent of listing order."""
    digest = hashlib.sha256()
    for name in sorted(file_hashes):
        digest.update(f"{name}\t{file_hashes[name]}\n".encode())
    return digest.hexdigest()


def digest_files(root: Path, names: Iterable[str]) -> str:
    """Digest over the given files of ``root`` (hashing each of them)."""
    return digest_of({name: sha256_file(root / name) for name in names})


def folder_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files that define the folder's output."""
    names = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not path.is_file() or rel.as_posix() in _EXCLUDED:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue  # editor/OS droppings, temp files
        names.append(rel.as_posix())
    return sorted(names)


def read_manifest(root: Path) -> dict[str, object] | None:
    path = root / BUILD_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _cached_hashes(root: Path, names: list[str]) -> dict[str, str] | None:
    """Per-file sha256 from the manifest, if it still describes these files.

    Trusted only when the manifest lists exactly these files with the same
    sizes and no file was modified after the manifest was written.
    """
    manifest = read_manifest(root)
    files = manifest.get("files") if manifest else None
    if not isinstance(files, dict) or sorted(files) != names:
        return None
    written = (root / BUILD_MANIFEST).stat().st_mtime_ns
    hashes: dict[str, str] = {}
    for name in names:
        entry = files[name]
        stat = (root / name).stat()
        if not isinstance(entry, dict) or entry.get("size") != stat.st_size:
            return None
        if stat.st_mtime_ns > written:
            return None
        hashes[name] = str(entry.get("sha256"))
    return hashes


def folder_digest(root: Path) -> str:
    """weights_sha256 of a model folder, using the manifest cache when valid."""
    names = folder_files(root)
    if not names:
        raise FileNotFoundError(f"no model files in {root}")
    cached = _cached_hashes(root, names)
    if cached is not None:
        return digest_of(cached)
    logger.info("hashing %d files in %s (no valid build manifest cache)", len(names), root)
    return digest_files(root, names)
