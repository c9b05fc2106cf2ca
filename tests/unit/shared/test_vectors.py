"""Embeddings in events: compact, unit norm, bounded, refused when malformed."""

from __future__ import annotations

import numpy as np
import pytest

from shared.vectors import MAX_CHARS, MAX_DIM, BadVector, decode_vector, encode_vector, vector_bytes


def test_round_trip_keeps_cosine() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 384)).astype(np.float32)
    exact = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    ea, eb = encode_vector(a), encode_vector(b)
    assert len(ea) == 1024
    da, db = decode_vector(vector_bytes(ea)), decode_vector(vector_bytes(eb))
    assert abs(float(da @ db) - exact) < 1e-3


@pytest.mark.parametrize("bad", ["not base64!", "", "AAAA", "QQ=="])
def test_malformed_is_refused(bad: str) -> None:
    with pytest.raises(BadVector):
        vector_bytes(bad)


def test_bounds() -> None:
    assert len(encode_vector(np.ones(MAX_DIM))) <= MAX_CHARS
    with pytest.raises(BadVector):
        encode_vector(np.ones(MAX_DIM + 1))
