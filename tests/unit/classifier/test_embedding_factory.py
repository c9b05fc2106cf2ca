"""Embedder spec, checksum digests, default paths and factory errors (no weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classifier.embedding import EmbedderNotBuiltError, EmbedderSpec, load_embedder
from services.classifier.embedding.build.cli import cache_dir, default_e5_dir, repo_root
from services.classifier.embedding.checksums import digest_of


def test_spec_round_trip() -> None:
    spec = EmbedderSpec("sentence-transformers", "multilingual-e5-small", "ab" * 32, 384)
    data = spec.to_dict()
    assert data == {
        "backend": "sentence-transformers",
        "name": "multilingual-e5-small",
        "weights_sha256": "ab" * 32,
        "dim": 384,
    }
    assert EmbedderSpec.from_dict(data) == spec


def test_digest_is_order_independent_and_content_sensitive() -> None:
    a = {"model.safetensors": "1" * 64, "tokenizer.json": "2" * 64}
    b = dict(reversed(a.items()))
    assert digest_of(a) == digest_of(b)
    assert digest_of(a) != digest_of({**a, "tokenizer.json": "3" * 64})
    assert digest_of(a) != digest_of({"renamed.safetensors": "1" * 64, "tokenizer.json": "2" * 64})


def test_default_dir_honours_cache_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    assert default_e5_dir() == tmp_path / "models" / "multilingual-e5-small-st"


def test_default_cache_is_in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_CACHE_DIR", raising=False)
    root = repo_root()
    if root is None:  # installed non-editable
        assert cache_dir() == Path.home() / ".cache" / "triage"
    else:
        assert (root / "pyproject.toml").is_file()
        assert cache_dir() == root / ".cache"


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown embedding backend"):
        load_embedder("word2vec")


def test_use_backend_takes_no_location() -> None:
    with pytest.raises(ValueError, match="no location"):
        load_embedder("use-multilingual", "/some/folder")


def test_missing_default_e5_folder_says_how_to_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    with pytest.raises(EmbedderNotBuiltError, match="triage build-embedder") as info:
        load_embedder("sentence-transformers")
    assert "make model" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_missing_explicit_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_embedder("sentence-transformers", str(tmp_path / "absent"))


def test_service_thread_setting_reaches_the_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    # TRIAGE_CLASSIFIER_THREADS must cap onnxruntime too, not only torch.
    from services.classifier.embedding import factory
    from services.classifier.training import embedders

    seen: dict[str, object] = {}

    def fake(backend: str, location: str | None = None, *, threads: int | None = None) -> object:
        seen.update(backend=backend, threads=threads)
        return object()

    monkeypatch.setattr(factory, "load_embedder", fake)
    embedders.load_embedder("sentence-transformers-onnx", None, threads=1)
    assert seen == {"backend": "sentence-transformers-onnx", "threads": 1}
