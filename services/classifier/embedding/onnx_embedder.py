"""Embedder running the int8 ONNX e5 build through sentence-transformers.

sentence-transformers does the tokenisation, batching, mean pooling and
normalisation exactly as for the float32 folder; only the encoder runs in
onnxruntime. ``backend="onnx"`` of sentence-transformers would load the file
through ``optimum``, which has no release compatible with transformers 5, so
the Transformer module's model loader is swapped for a thin onnxruntime
session (``OrtTransformer``) -- everything else is sentence-transformers' code.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from services.classifier.embedding import checksums
from services.classifier.embedding.base import EmbedderSpec, Vectors
from services.classifier.embedding.formats import ONNX_BUILD_FORMAT
from services.classifier.embedding.sentence_transformer import resolve_folder, set_torch_threads

logger = logging.getLogger(__name__)

BACKEND = "sentence-transformers-onnx"
# Attention cells (texts x tokens^2) per onnxruntime call: 64 texts of 128
# tokens, or 4 of 512; about 50 MB of scores per layer instead of 805 MB.
ATTENTION_BUDGET = 64 * 128 * 128


def session_options(threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Busy-waiting workers steal the shared cores from the consumer loop and
    # from other processes; on a loaded 2-core machine spinning was slower.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # onnxruntime's arena reuses activation buffers from call to call; with
    # plain malloc, freed blocks stayed fragmented and RSS ended ~200 MB higher.
    # ATTENTION_BUDGET bounds how far the arena can grow.
    options.enable_cpu_mem_arena = True
    return options


class OrtEncoder:
    """Stands in for the transformers model: ids + mask -> last_hidden_state."""

    main_input_name = "input_ids"

    def __init__(self, path: Path, config: Any, threads: int) -> None:
        import onnxruntime as ort

        self.config = config
        self.session = ort.InferenceSession(
            str(path), session_options(threads), providers=["CPUExecutionProvider"]
        )

    def forward(self, input_ids: Any, attention_mask: Any, **_: Any) -> Any:
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        feeds = {
            "input_ids": input_ids.numpy().astype(np.int64, copy=False),
            "attention_mask": attention_mask.numpy().astype(np.int64, copy=False),
        }
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    __call__ = forward


def _transformer_class() -> type[Any]:
    """sentence-transformers' Transformer with an onnxruntime model loader."""
    from sentence_transformers.sentence_transformer.modules import Transformer

    class OrtTransformer(Transformer):  # type: ignore[misc]
        def _load_model(
            self,
            model_name_or_path: str,
            transformer_task: str,
            config: Any,
            backend: str,
            is_peft_model: bool,
            **model_kwargs: Any,
        ) -> Any:
            path = Path(model_name_or_path) / model_kwargs["file_name"]
            return OrtEncoder(path, config, int(model_kwargs["threads"]))

    return OrtTransformer


def _manifest(folder: Path) -> dict[str, object]:
    manifest = checksums.read_manifest(folder)
    if manifest is None or manifest.get("format") != ONNX_BUILD_FORMAT:
        raise ValueError(
            f"{folder} is not an int8 ONNX build of e5; run `triage build-embedder` "
            "(it builds the ONNX copy too)"
        )
    return manifest


class OnnxEmbedder:
    """L2-normalised float32 embeddings from the int8 ONNX e5 build."""

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        self.folder = resolve_folder(path)
        manifest = _manifest(self.folder)
        self.prefix = str(manifest.get("prefix", ""))
        self.onnx_file = str(manifest["onnx_file"])
        self.threads = set_torch_threads(threads)  # torch only pools; onnxruntime encodes
        self._model = self._load()
        dim = self._model.get_embedding_dimension()
        self._spec = EmbedderSpec(
            backend=BACKEND,
            name=str(manifest.get("name", self.folder.name)),
            weights_sha256=checksums.folder_digest(self.folder),
            dim=int(dim),
        )
        logger.info("loaded %s from %s (%d threads)", self._spec.name, self.folder, self.threads)

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

        encoder = _transformer_class().load(
            str(self.folder),
            backend="onnx",
            local_files_only=True,
            model_kwargs={"file_name": self.onnx_file, "threads": self.threads},
        )
        pooling = Pooling.load(str(self.folder / "1_Pooling"))
        return SentenceTransformer(modules=[encoder, pooling, Normalize()], device="cpu")

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def token_lengths(self, texts: list[str]) -> list[int]:
        encoded = self._model.tokenizer(
            texts, truncation=True, max_length=self._model.max_seq_length, add_special_tokens=True
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        out = np.zeros((len(texts), self._spec.dim), dtype=np.float32)
        if not texts:
            return out
        prefixed = [self.prefix + text for text in texts]
        groups = length_batches(self.token_lengths(prefixed), batch_size, ATTENTION_BUDGET)
        if show_progress:
            from tqdm import tqdm

            groups = tqdm(groups, desc="Embedding (e5 int8)", unit="batch")
        for group in groups:
            out[group] = self._model.encode(
                [prefixed[i] for i in group],
                batch_size=len(group),
                show_progress_bar=False,  # one bar per group would flood the service's log
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return out


def length_batches(lengths: list[int], batch_size: int, budget: int) -> list[list[int]]:
    """Indices grouped longest first, each group within ``batch_size`` and ``budget``.

    A group costs ``len(group) * longest**2`` attention cells: onnxruntime
    materialises the (batch, heads, len, len) scores, so one 512-token text
    padded into a batch of 64 would take 1.6 GB; grouping by length also
    saves the compute wasted on padding.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups: list[list[int]] = []
    for index in order:
        if groups:
            group = groups[-1]
            longest = lengths[group[0]]
            if len(group) < batch_size and (len(group) + 1) * longest * longest <= budget:
                group.append(index)
                continue
        groups.append([index])
    return groups
