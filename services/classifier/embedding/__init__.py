"""Sentence embedders: offline multilingual-e5-small (float32, or int8 through
onnxruntime), USE multilingual, and the interface.

Heavy libraries (torch, sentence-transformers) load only when an embedder is built.
"""

from services.classifier.embedding.base import Embedder, EmbedderSpec, Vectors
from services.classifier.embedding.factory import BACKENDS, EmbedderNotBuiltError, load_embedder

__all__ = [
    "BACKENDS",
    "Embedder",
    "EmbedderNotBuiltError",
    "EmbedderSpec",
    "Vectors",
    "load_embedder",
]
