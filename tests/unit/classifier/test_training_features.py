"""Feature space: TF-IDF, embeddings, their concatenation and the centring."""

from __future__ import annotations

import numpy as np
import pytest

from services.classifier.model.features import (
    FeatureConfig,
    FeatureSpace,
    HeadConfig,
    ModelConfig,
    center,
)
from services.classifier.training.fitting import fit_features, make_head
from testing.hashing import HashingEmbedder

TEXTS = [f"rent landlord lease {i}" for i in range(12)] + [
    f"food parcel meal {i}" for i in range(12)
]


def test_center_gives_unit_rows_and_identity_without_mean() -> None:
    emb = HashingEmbedder(32).encode(TEXTS)
    assert center(emb, None) is emb
    centred = center(emb, emb.mean(axis=0))
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    assert centred.dtype == np.float32


@pytest.mark.parametrize(("mode", "extra"), [("embedding", 0), ("tfidf", -32), ("concat", 0)])
def test_modes_shapes_and_persisted_state(mode: str, extra: int) -> None:
    emb = HashingEmbedder(32).encode(TEXTS)
    space, x = fit_features(FeatureConfig(mode=mode), TEXTS, emb)  # type: ignore[arg-type]
    assert x.shape[0] == len(TEXTS)
    assert (space.tfidf is None) == (mode == "embedding")
    assert (space.embedding_mean is None) == (mode == "tfidf")
    again = FeatureSpace(space.config, space.tfidf, space.embedding_mean)
    y = again.transform(TEXTS[:3], emb[:3])
    dense = y.toarray() if hasattr(y, "toarray") else y
    first = x[:3].toarray() if hasattr(x, "toarray") else x[:3]
    assert np.allclose(dense, first, atol=1e-6)
    if mode == "embedding":
        assert x.shape[1] == 32


def test_transform_before_fit_is_an_error() -> None:
    emb = HashingEmbedder(32).encode(TEXTS[:2])
    with pytest.raises(ValueError, match="not fitted"):
        FeatureSpace(FeatureConfig(mode="concat")).transform(TEXTS[:2], emb)


def test_config_round_trip_and_old_manifests() -> None:
    config = ModelConfig(FeatureConfig(mode="embedding", embedding_weight=2.0), HeadConfig(c=3.0))
    assert ModelConfig.from_dict(config.to_dict()) == config
    legacy = config.to_dict()
    del legacy["features"]["center_embeddings"]
    assert ModelConfig.from_dict(legacy).features.center_embeddings is False


def test_head_folds_follow_the_rarest_label() -> None:
    head = make_head(HeadConfig(calibration_folds=3), ["a"] * 5 + ["b"] * 2, seed=0)
    assert head.cv == 2
    plain = make_head(HeadConfig(), ["a"] * 5 + ["b"], seed=0)
    assert type(plain).__name__ == "LogisticRegression"


def test_hashing_embedder_is_deterministic_and_unit_norm() -> None:
    a = HashingEmbedder(64).encode(["Bonjour, ma facture de gaz", ""])
    b = HashingEmbedder(64).encode(["Bonjour, ma facture de gaz", ""])
    assert a.shape == (2, 64) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.linalg.norm(a[0]) == pytest.approx(1.0, abs=1e-5)
    assert not a[1].any()  # empty text: zero vector, no division by zero
    assert HashingEmbedder(64).spec != HashingEmbedder(128).spec
    assert HashingEmbedder(64).spec.backend == "hashing"
