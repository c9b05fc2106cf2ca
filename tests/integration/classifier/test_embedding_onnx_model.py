"""The int8 ONNX e5 build: export, determinism, loading, agreement with float32.

Reuses the float32 e5 folder of the cache when it is a valid build (else
converts one into a temporary directory), exports the int8 copy into a
temporary directory (~1 min, ~3.5 GB peak) and loads both embedders.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.models.variants import TRANSLATIONS
from services.classifier.embedding import checksums, load_embedder
from services.classifier.embedding.build import e5_convert
from services.classifier.embedding.build.cli import build, build_onnx, main
from services.classifier.embedding.build.onnx_build import model_name
from services.classifier.embedding.build.onnx_export import PRESETS
from services.classifier.embedding.formats import e5_dir
from services.classifier.embedding.onnx_embedder import OnnxEmbedder
from services.classifier.embedding.sentence_transformer import SentenceTransformerEmbedder
from services.classifier.settings import ModelPaths
from testing.st_onnx import SentenceTransformersOnnx

OTHER_TEXTS = [
    "Bonjour, mon électricité a été coupée hier soir et j'ai un bébé à la maison !",
    "Straße  ﬁnancial\tＡＢＣ café e\u0301cole « guillemets » – 12,50 €",
    "literal </s> and <s> in a request",
    "ok",
]
LONG_TEXT = " ".join(
    ["Mon fournisseur d'énergie menace de couper le gaz la semaine prochaine."] * 60
)


@pytest.fixture(scope="module")
def fp32_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cached = e5_dir(ModelPaths().models_dir)
    if cached.is_dir() and e5_convert.validate(cached) is None:
        yield cached
        return
    folder, _ = build(tmp_path_factory.mktemp("models") / "e5")
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def onnx_folder(fp32_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder, built = build_onnx(fp32_folder, tmp_path_factory.mktemp("models") / "int8")
    assert built
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def onnx_embedder(onnx_folder: Path) -> OnnxEmbedder:
    return OnnxEmbedder(onnx_folder, threads=2)


@pytest.fixture(scope="module")
def fp32_embedder(fp32_folder: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(fp32_folder, threads=2)


def all_texts() -> list[str]:
    return OTHER_TEXTS + [t for group in TRANSLATIONS for t in group]


def nearest_neighbour_topics(vectors: np.ndarray, topics: list[int]) -> list[tuple[int, int]]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return [(topics[i], topics[int(np.argmax(row))]) for i, row in enumerate(sims)]


# Two builds (the fixture's and a second one) in one test: each exports, fuses and
# quantises (~1 min quiet); at load average 10 on 2 cores they took 5 minutes each.
@pytest.mark.timeout(1500)
def test_build_is_valid_deterministic_and_skipped_when_valid(
    onnx_folder: Path, fp32_folder: Path, tmp_path: Path
) -> None:
    manifest = checksums.read_manifest(onnx_folder)
    assert manifest is not None
    assert manifest["onnx_file"] == PRESETS["portable"].file_name
    source = manifest["source"]
    assert isinstance(source, dict)
    assert source["weights_sha256"] == checksums.folder_digest(fp32_folder)
    assert not (onnx_folder / "model.safetensors").exists()
    size = (onnx_folder / PRESETS["portable"].file_name).stat().st_size
    assert 100e6 < size < 140e6  # int8 weights, embedding table included
    fusions = manifest["fusions"]  # onnxruntime's BERT fusions, one Attention per layer
    assert isinstance(fusions, dict) and fusions["Attention"] == 12
    assert build_onnx(fp32_folder, onnx_folder) == (onnx_folder, False)
    again, _ = build_onnx(fp32_folder, tmp_path / "again")
    names = [*checksums.folder_files(onnx_folder), checksums.BUILD_MANIFEST]
    different = [n for n in names if (again / n).read_bytes() != (onnx_folder / n).read_bytes()]
    shutil.rmtree(again)  # 135 MB: don't leave it in pytest's kept temp dirs
    assert different == []


def test_cli_reports_both_folders_up_to_date(
    onnx_folder: Path, fp32_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(fp32_folder), "--onnx-out", str(onnx_folder)]) == 0
    out = capsys.readouterr().out
    assert "multilingual-e5-small is up to date" in out
    assert f"int8 ONNX multilingual-e5-small is up to date: {onnx_folder}" in out


def test_embedder_contract(onnx_embedder: OnnxEmbedder, onnx_folder: Path) -> None:
    spec = onnx_embedder.spec
    manifest = checksums.read_manifest(onnx_folder)
    assert manifest is not None
    assert (spec.backend, spec.name, spec.dim) == (
        "sentence-transformers-onnx",
        model_name(PRESETS["portable"]),
        384,
    )
    assert spec.weights_sha256 == manifest["weights_sha256"]
    assert onnx_embedder.prefix == "query: "
    vectors = onnx_embedder.encode(all_texts(), batch_size=5)
    assert vectors.shape == (len(all_texts()), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx_embedder.encode([]).shape == (0, 384)


def test_spec_differs_from_the_float32_one(
    onnx_embedder: OnnxEmbedder, fp32_embedder: SentenceTransformerEmbedder
) -> None:
    a, b = onnx_embedder.spec, fp32_embedder.spec
    assert a != b
    assert a.backend != b.backend and a.name != b.name and a.weights_sha256 != b.weights_sha256


def test_close_to_float32(
    onnx_embedder: OnnxEmbedder, fp32_embedder: SentenceTransformerEmbedder
) -> None:
    texts = [*all_texts(), LONG_TEXT]
    cosines = np.sum(onnx_embedder.encode(texts) * fp32_embedder.encode(texts), axis=1)
    assert cosines.min() >= 0.98, cosines
    assert cosines.mean() >= 0.99, cosines


def test_batch_mates_barely_matter(onnx_embedder: OnnxEmbedder) -> None:
    # Activations are quantised per call, so a text's vector depends a little on
    # the other texts of its batch (and the long one goes to its own call).
    texts = [*all_texts(), LONG_TEXT]
    together = onnx_embedder.encode(texts, batch_size=64)
    alone = np.vstack([onnx_embedder.encode([t], batch_size=1) for t in texts])
    assert np.sum(together * alone, axis=1).min() >= 0.995


def test_cross_lingual_nearest_neighbour_is_a_translation(onnx_embedder: OnnxEmbedder) -> None:
    texts = [t for group in TRANSLATIONS for t in group]
    topics = [i for i, group in enumerate(TRANSLATIONS) for _ in group]
    for topic, neighbour_topic in nearest_neighbour_topics(onnx_embedder.encode(texts), topics):
        assert topic == neighbour_topic


def test_factory_routes_the_onnx_folder(onnx_folder: Path) -> None:
    embedder = load_embedder("sentence-transformers-onnx", str(onnx_folder), threads=1)
    assert embedder.spec.backend == "sentence-transformers-onnx"
    with pytest.raises(ValueError, match="sentence-transformers-onnx"):
        load_embedder("sentence-transformers", str(onnx_folder))


def test_same_vectors_as_the_sentence_transformers_path(onnx_embedder: OnnxEmbedder) -> None:
    # Served without torch: same tokens and vectors as sentence-transformers on the same file.
    texts = [*all_texts(), LONG_TEXT, "  spaces around  ", ""]
    reference = SentenceTransformersOnnx(onnx_embedder)
    assert onnx_embedder.token_ids(texts) == reference.token_ids(texts)
    assert len(onnx_embedder.token_ids([LONG_TEXT])[0]) == 512
    for batch_size in (64, 3):
        np.testing.assert_allclose(
            onnx_embedder.encode(texts, batch_size=batch_size),
            reference.encode(texts, batch_size=batch_size),
            atol=1e-5,
        )


SERVING_IMPORTS = """
import sys
from services.classifier.embedding.onnx_embedder import OnnxEmbedder
from services.classifier.embedding.torch_free import import_skops
import_skops()
OnnxEmbedder(sys.argv[1], threads=1).encode(["Bonjour"])
heavy = {"torch", "transformers", "sentence_transformers"} & set(sys.modules)
print(sorted(heavy))
"""


def test_serving_imports_neither_torch_nor_sentence_transformers(onnx_folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVING_IMPORTS, str(onnx_folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stderr
