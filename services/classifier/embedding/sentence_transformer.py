"""Embedder backed by a local sentence-transformers folder (default: the e5 build)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from services.classifier.embedding import checksums
from services.classifier.embedding.base import EmbedderSpec, Vectors
from services.classifier.embedding.formats import E5_BUILD_FORMAT, ONNX_BUILD_FORMAT

logger = logging.getLogger(__name__)

BACKEND = "sentence-transformers"


def force_offline() -> None:
    """Never reach a model hub: only local folders (or an existing HF cache) load.

    A write for the libraries, not configuration: a hub download must fail fast
    instead of hanging on an offline machine. It runs when an embedder is built
    (never at import), before huggingface_hub is first imported, since that
    library reads the flag once, at import.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def set_torch_threads(threads: int | None) -> int:
    """Use ``threads`` intra-op threads (default: every core) and return the count."""
    import torch

    count = max(1, threads or os.cpu_count() or 1)
    torch.set_num_threads(count)
    return count


def resolve_folder(path_or_id: str | Path) -> Path:
    """A local folder as is, or a hub id already in the local HF cache (no download)."""
    force_offline()
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.is_absolute() or str(path_or_id).startswith("."):
        raise FileNotFoundError(f"embedding model folder not found: {path}")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(path_or_id), local_files_only=True))
    except Exception as exc:  # the hub client raises several unrelated types here
        raise FileNotFoundError(
            f"{path_or_id!r} is neither a folder nor a model in the local Hugging Face cache "
            "(downloads are disabled)"
        ) from exc


def _auto_prefix_and_name(folder: Path) -> tuple[str, str]:
    manifest = checksums.read_manifest(folder)
    if manifest and manifest.get("format") == E5_BUILD_FORMAT:
        return str(manifest.get("prefix", "query: ")), str(manifest.get("name", folder.name))
    return "", folder.name


def _refuse_onnx_build(folder: Path) -> None:
    manifest = checksums.read_manifest(folder)
    if manifest and manifest.get("format") == ONNX_BUILD_FORMAT:
        raise ValueError(
            f"{folder} is the int8 ONNX build: "
            "load it with the 'sentence-transformers-onnx' backend"
        )


def stored_dtype(folder: Path, tensor: str) -> str | None:
    """dtype of ``tensor`` in the folder's model.safetensors (header only), if present."""
    path = folder / "model.safetensors"
    if not path.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as handle:
        if tensor not in handle.keys():  # noqa: SIM118 (not a dict)
            return None
        return str(handle.get_slice(tensor).get_dtype())


def half_word_embeddings(model: Any, folder: Path) -> bool:
    """Store the word-embedding table in float16 if the folder does; return whether done.

    Only then is it lossless: the float32 copy holds exactly the float16 values,
    and a float16 lookup cast back to float32 gives the same numbers.
    """
    import torch

    bert = getattr(model[0], "auto_model", None)
    table = getattr(getattr(bert, "embeddings", None), "word_embeddings", None)
    if not isinstance(table, torch.nn.Embedding):
        return False
    if stored_dtype(folder, "embeddings.word_embeddings.weight") != "F16":
        return False
    table.to(torch.float16)
    table.register_forward_hook(lambda _module, _inputs, output: output.float())
    return True


class SentenceTransformerEmbedder:
    """L2-normalised float32 embeddings from a sentence-transformers folder.

    ``prefix`` is prepended to every text; None picks it automatically
    ("query: " for the e5 build, e5 being trained with that marker).
    ``fp16_lookup`` keeps the word-embedding table in float16 when the folder
    stores it so (the e5 build does): the lookup is cast to float32, so the
    output is bit-identical while the 250k x 384 table takes 183 MB, not 366 MB.
    """

    def __init__(
        self,
        path_or_id: str | Path,
        *,
        prefix: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
        name: str | None = None,
        fp16_lookup: bool = True,
    ) -> None:
        self.folder = resolve_folder(path_or_id)
        _refuse_onnx_build(self.folder)
        self.fp16_lookup = fp16_lookup
        auto_prefix, auto_name = _auto_prefix_and_name(self.folder)
        self.prefix = auto_prefix if prefix is None else prefix
        self.threads = set_torch_threads(threads)
        self._model = self._load(device)
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise ValueError(f"cannot tell the embedding dimension of {self.folder}")
        self._spec = EmbedderSpec(
            backend=BACKEND,
            name=name or auto_name,
            weights_sha256=checksums.folder_digest(self.folder),
            dim=int(dim),
        )
        logger.info("loaded %s from %s (dim %d)", self._spec.name, self.folder, dim)

    def _load(self, device: str) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(
            str(self.folder),
            device=device,
            local_files_only=True,
            # fp16 on disk halves the download-free folder; compute stays float32.
            model_kwargs={"dtype": torch.float32},
        )
        if self.fp16_lookup:
            self.fp16_lookup = half_word_embeddings(model, self.folder)
        return model

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        if not texts:
            return np.zeros((0, self._spec.dim), dtype=np.float32)
        vectors = self._model.encode(
            [self.prefix + text for text in texts],
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
