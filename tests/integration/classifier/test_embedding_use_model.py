"""The USE multilingual backend with its bundled weights."""

from __future__ import annotations

import numpy as np
import pytest

from services.classifier.embedding import load_embedder
from services.classifier.embedding.base import Embedder
from tests.fixtures.translations import TRANSLATIONS


@pytest.fixture(scope="module")
def use_embedder() -> Embedder:
    return load_embedder("use-multilingual")


def test_use_contract(use_embedder: Embedder) -> None:
    spec = use_embedder.spec
    assert (spec.backend, spec.dim) == ("use-multilingual", 512)
    assert len(spec.weights_sha256) == 64
    texts = [t for group in TRANSLATIONS for t in group]
    vectors = use_embedder.encode(texts, batch_size=5)
    assert vectors.shape == (12, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(use_embedder.encode(texts, batch_size=64), vectors, atol=1e-5)
    assert use_embedder.encode([]).shape == (0, 512)
    assert load_embedder("use-multilingual").spec == spec


def test_use_cross_lingual_nearest_neighbour_is_a_translation(use_embedder: Embedder) -> None:
    texts = [t for group in TRANSLATIONS for t in group]
    topics = [i for i, group in enumerate(TRANSLATIONS) for _ in group]
    vectors = use_embedder.encode(texts)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i, row in enumerate(sims):
        assert topics[int(np.argmax(row))] == topics[i], texts[i]
