"""The int8 ONNX embedder variant: presets, names, paths, batching and refusals (no weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.classifier.embedding import BACKENDS, EmbedderNotBuiltError, load_embedder
from services.classifier.embedding.build.cli import _parser
from services.classifier.embedding.build.e5_convert import MODEL_NAME
from services.classifier.embedding.build.onnx_build import (
    BUILDER_VERSION,
    get_preset,
    is_onnx_build,
    model_name,
    validate_onnx,
)
from services.classifier.embedding.build.onnx_export import PRESETS
from services.classifier.embedding.checksums import BUILD_MANIFEST
from services.classifier.embedding.formats import (
    DEFAULT_PRESET,
    ONNX_BUILD_FORMAT,
    e5_dir,
    onnx_dir,
)
from services.classifier.embedding.onnx_embedder import OnnxEmbedder, length_batches, mean_pool
from services.classifier.embedding.sentence_transformer import (
    SentenceTransformerEmbedder,
    stored_dtype,
)
from services.classifier.embedding.torch_free import RefuseTorch
from services.classifier.settings import ModelPaths


def test_onnx_backend_is_offered() -> None:
    assert "sentence-transformers-onnx" in BACKENDS
    assert "sentence-transformers" in BACKENDS


def test_default_preset_is_the_saturation_free_one() -> None:
    preset = PRESETS[DEFAULT_PRESET]
    assert DEFAULT_PRESET == "portable"
    # 7-bit signed weights: no VPMADDUBSW overflow on AVX2 CPUs without VNNI.
    assert preset.signed_weights and preset.reduce_range
    assert preset.file_name == "onnx/model_qint8_portable.onnx"
    assert preset.to_dict()["per_channel"] is True


def test_preset_file_names_follow_sentence_transformers() -> None:
    assert PRESETS["vnni"].file_name == "onnx/model_qint8_vnni.onnx"
    assert PRESETS["avx2"].file_name == "onnx/model_quint8_avx2.onnx"
    assert not PRESETS["vnni"].reduce_range


def test_unknown_preset_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown quantisation preset 'avx512'"):
        get_preset("avx512")


def test_model_names_differ_from_the_float32_one() -> None:
    names = {model_name(preset) for preset in PRESETS.values()}
    assert len(names) == len(PRESETS)
    assert MODEL_NAME not in names
    assert model_name(PRESETS["portable"]) == "multilingual-e5-small-onnx-qint8-portable"


def test_default_onnx_dir_is_a_sibling(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    models = ModelPaths().models_dir
    assert onnx_dir(models) == tmp_path / "models" / "multilingual-e5-small-onnx-portable"
    assert onnx_dir(models, "vnni").name == "multilingual-e5-small-onnx-vnni"
    # Not inside: the float32 folder's checksum covers every file under it.
    assert onnx_dir(models).parent == e5_dir(models).parent


def test_cli_knows_the_onnx_options() -> None:
    parser = _parser(Path("e5"))
    args = parser.parse_args(["--no-onnx", "--onnx-quant", "vnni"])
    assert args.no_onnx and args.onnx_quant == "vnni"
    assert parser.parse_args([]).onnx_quant is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--onnx-quant", "fp8"])


def test_missing_default_onnx_folder_says_how_to_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    models = ModelPaths().models_dir
    with pytest.raises(EmbedderNotBuiltError, match="triage build-embedder") as info:
        load_embedder("sentence-transformers-onnx", models_dir=models)
    assert "int8 ONNX" in str(info.value)


def _fake_build(root: Path, data: dict[str, object]) -> Path:
    root.mkdir(parents=True)
    (root / BUILD_MANIFEST).write_text(json.dumps(data))
    return root


def test_onnx_embedder_refuses_a_folder_that_is_not_an_onnx_build(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "fp32", {"format": "triage-e5-sentence-transformers"})
    with pytest.raises(ValueError, match="not an int8 ONNX build"):
        OnnxEmbedder(folder)


def test_float32_embedder_refuses_the_onnx_build(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "int8", {"format": ONNX_BUILD_FORMAT})
    assert is_onnx_build(folder)
    with pytest.raises(ValueError, match="sentence-transformers-onnx"):
        SentenceTransformerEmbedder(folder)


def test_validate_onnx_explains_what_is_wrong(tmp_path: Path) -> None:
    source = _fake_build(
        tmp_path / "fp32",
        {"format": "triage-e5-sentence-transformers", "weights_sha256": "a" * 64},
    )
    assert validate_onnx(tmp_path / "absent", source) == "no build manifest"
    other = _fake_build(tmp_path / "other", {"format": "something-else"})
    assert validate_onnx(other, source) == "not a triage ONNX build"
    good = {
        "format": ONNX_BUILD_FORMAT,
        "builder_version": BUILDER_VERSION,
        "onnx_file": "onnx/model_qint8_portable.onnx",
        "source": {"weights_sha256": "b" * 64},
    }
    stale = _fake_build(tmp_path / "stale", good)
    assert validate_onnx(stale, source) == "built from a different float32 e5 folder"
    assert validate_onnx(stale, source, "vnni") == "built with another quantisation preset"
    # a build without the fusions (builder 1) is rebuilt: it is not what serving expects
    unfused = _fake_build(tmp_path / "unfused", {**good, "builder_version": 1})
    assert validate_onnx(unfused, source) == "built by another builder version"


def test_stored_dtype_reads_the_safetensors_header(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(
        {"a": np.zeros((2, 3), np.float16), "b": np.zeros(3, np.float32)},
        str(tmp_path / "model.safetensors"),
    )
    assert stored_dtype(tmp_path, "a") == "F16"
    assert stored_dtype(tmp_path, "b") == "F32"
    assert stored_dtype(tmp_path, "missing") is None
    assert stored_dtype(tmp_path / "nowhere", "a") is None


def test_length_batches_cover_every_text_once_longest_first() -> None:
    lengths = [12, 512, 30, 30, 7, 128, 64]
    groups = length_batches(lengths, batch_size=3, budget=10**9)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(len(g) <= 3 for g in groups)
    flat = [lengths[i] for g in groups for i in g]
    assert flat == sorted(lengths, reverse=True)


def test_length_batches_keep_a_long_text_away_from_short_ones() -> None:
    budget = 64 * 128 * 128
    lengths = [512] + [40] * 63
    groups = length_batches(lengths, batch_size=64, budget=budget)
    assert groups[0][0] == 0
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert len(group) == 1 or len(group) * longest**2 <= budget
    # 4 x 512^2 cells fit the budget: the long text takes 3 short ones along,
    # and the other 60 share one call.
    assert [len(g) for g in groups] == [4, 60]


def test_length_batches_of_nothing() -> None:
    assert length_batches([], batch_size=64, budget=1) == []


def test_missing_onnx_tools_skip_the_copy_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from services.classifier.embedding.build import cli as build

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert build._onnx_tools_missing(explicit=False)
    assert not build._onnx_tools_missing(explicit=True)  # then the build fails loudly


def test_mean_pool_averages_the_unmasked_tokens_then_normalises() -> None:
    hidden = np.array(
        [[[3.0, 0.0], [1.0, 0.0], [100.0, 100.0]], [[0.0, 2.0], [0.0, 0.0], [0.0, 0.0]]],
        dtype=np.float32,
    )
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=np.int64)
    np.testing.assert_allclose(mean_pool(hidden, mask), [[1.0, 0.0], [0.0, 1.0]])


def test_torch_is_refused_and_nothing_else() -> None:
    finder = RefuseTorch()
    for name in ("torch", "torch.nn"):
        with pytest.raises(ImportError, match="serving"):
            finder.find_spec(name)
    assert finder.find_spec("torchvision") is None
    assert finder.find_spec("numpy") is None


def test_length_batches_close_a_group_at_a_much_shorter_text() -> None:
    lengths = [100, 95, 90, 84, 80, 10]
    assert length_batches(lengths, 64, 10**9, 0.85) == [[0, 1, 2], [3, 4], [5]]
    assert length_batches(lengths, 64, 10**9) == [[0, 1, 2, 3, 4, 5]]
