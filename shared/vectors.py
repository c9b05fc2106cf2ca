"""Compact text form of an embedding, for events: base64 of little-endian float16.

A 384-dimension e5-small vector is 768 bytes, 1,024 base64 characters: a
quarter of its JSON list of floats. float16 keeps ~3 significant digits, far
more than a cosine threshold needs (the error on a cosine of unit vectors is
below 1e-3).
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
import numpy.typing as npt

from shared.events import VECTOR_MAX_CHARS as MAX_CHARS
from shared.events import VECTOR_MAX_DIM as MAX_DIM

__all__ = ["MAX_CHARS", "MAX_DIM", "BadVector", "decode_vector", "encode_vector", "vector_bytes"]


class BadVector(ValueError):
    """Text that is not an encoded vector."""


def encode_vector(vector: npt.ArrayLike) -> str:
    """``vector`` (1-D) as base64 float16, unit-normalised so that a dot product is a cosine."""
    v = np.asarray(vector, dtype=np.float32).ravel()
    if not 0 < v.size <= MAX_DIM:
        raise BadVector(f"vector of {v.size} dimensions (1-{MAX_DIM} allowed)")
    norm = float(np.linalg.norm(v))
    if norm > 0:
        v = v / norm
    return base64.b64encode(v.astype("<f2").tobytes()).decode("ascii")


def vector_bytes(text: str) -> bytes:
    """The raw float16 bytes of an encoded vector (what the router stores)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadVector(f"not base64: {exc}") from exc
    if not raw or len(raw) % 2 or len(raw) > 2 * MAX_DIM:
        raise BadVector(f"{len(raw)} bytes is no float16 vector")
    return raw


def decode_vector(raw: bytes) -> npt.NDArray[np.float32]:
    """float16 bytes (``vector_bytes``) back to a float32 vector."""
    return np.frombuffer(raw, dtype="<f2").astype(np.float32)
