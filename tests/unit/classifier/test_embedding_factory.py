"""Embedder spec, checksum digests, default paths and factory errors (no weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classifier.embedding import EmbedderNotBuiltError, EmbedderSpec, load_embedder
from services.classifier.embedding.checksums import digest_of
from services.classifier.embedding.formats import e5_dir
from services.classifier.settings import ModelPaths


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
    assert e5_dir(ModelPaths().models_dir) == tmp_path / "models" / "multilingual-e5-small-st"


def test_default_cache_is_in_the_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # No checkout sniffing: make and the Dockerfile set TRIAGE_CACHE_DIR themselves.
    monkeypatch.delenv("TRIAGE_CACHE_DIR", raising=False)
    assert ModelPaths().cache_dir == Path.home() / ".cache" / "triage"


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
        load_embedder("sentence-transformers", models_dir=ModelPaths().models_dir)
    assert "make model" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_missing_explicit_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_embedder("sentence-transformers", str(tmp_path / "absent"))


def test_service_thread_setting_reaches_the_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    # TRIAGE_CLASSIFIER_THREADS must cap onnxruntime too, not only torch.
    from services.classifier.embedding import onnx_embedder

    seen: dict[str, object] = {}

    class Fake:
        def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
            seen.update(backend="sentence-transformers-onnx", threads=threads)

    monkeypatch.setattr(onnx_embedder, "OnnxEmbedder", Fake)
    load_embedder("sentence-transformers-onnx", "/some/int8/folder", threads=1)
    assert seen == {"backend": "sentence-transformers-onnx", "threads": 1}
