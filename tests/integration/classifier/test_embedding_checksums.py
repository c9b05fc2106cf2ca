"""Folder checksums and the manifest cache, on small files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.classifier.embedding import checksums


def make_folder(root: Path) -> Path:
    (root / "1_Pooling").mkdir(parents=True)
    (root / "model.safetensors").write_bytes(b"weights" * 100)
    (root / "tokenizer.json").write_text("{}")
    (root / "1_Pooling" / "config.json").write_text('{"mean": true}')
    return root


def write_manifest(root: Path) -> None:
    names = checksums.folder_files(root)
    files = {
        n: {"size": (root / n).stat().st_size, "sha256": checksums.sha256_file(root / n)}
        for n in names
    }
    (root / checksums.BUILD_MANIFEST).write_text(json.dumps({"files": files}))


def test_digest_without_manifest_hashes_files(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "m")
    (root / ".DS_Store").write_text("junk")
    names = checksums.folder_files(root)
    assert names == ["1_Pooling/config.json", "model.safetensors", "tokenizer.json"]
    assert checksums.folder_digest(root) == checksums.digest_files(root, names)


def test_manifest_cache_is_used_when_it_matches(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "m")
    real = checksums.folder_digest(root)
    write_manifest(root)
    assert checksums.folder_digest(root) == real
    # Prove the cache is read: a (same-size) lie in the manifest shows through.
    data = json.loads((root / checksums.BUILD_MANIFEST).read_text())
    data["files"]["tokenizer.json"]["sha256"] = "0" * 64
    (root / checksums.BUILD_MANIFEST).write_text(json.dumps(data))
    assert checksums.folder_digest(root) != real


def test_modified_file_invalidates_the_cache(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "m")
    write_manifest(root)
    cached = checksums.folder_digest(root)
    weights = root / "model.safetensors"
    weights.write_bytes(b"WEIGHTS" * 100)  # same size, new content
    later = (root / checksums.BUILD_MANIFEST).stat().st_mtime_ns + 10**9
    os.utime(weights, ns=(later, later))
    assert checksums.folder_digest(root) != cached
    assert checksums.folder_digest(root) == checksums.digest_files(
        root, checksums.folder_files(root)
    )


def test_added_file_invalidates_the_cache(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "m")
    write_manifest(root)
    cached = checksums.folder_digest(root)
    (root / "extra.bin").write_bytes(b"x")
    assert checksums.folder_digest(root) != cached
