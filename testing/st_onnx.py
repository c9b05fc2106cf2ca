"""The int8 ONNX e5 build run through sentence-transformers (tests only).

Serving used to embed this way: sentence-transformers tokenised, batched,
pooled and normalised, and only the encoder ran in onnxruntime (its Transformer
module's model loader swapped for a thin onnxruntime session, as
``backend="onnx"`` needs ``optimum``, which does not support transformers 5).
The serving embedder now does the same without torch; this copy of the old
path is what the integration tests check its vectors against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.classifier.embedding.base import Vectors
from services.classifier.embedding.onnx_embedder import (
    ATTENTION_BUDGET,
    OnnxEmbedder,
    length_batches,
    session_options,
)


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


class SentenceTransformersOnnx:
    """``encode`` of the old serving path: same groups, sentence-transformers' maths."""

    def __init__(self, served: OnnxEmbedder) -> None:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

        self.served = served
        folder = served.folder
        encoder = _transformer_class().load(
            str(folder),
            backend="onnx",
            local_files_only=True,
            model_kwargs={"file_name": served.onnx_file, "threads": served.threads},
        )
        pooling = Pooling.load(str(folder / "1_Pooling"))
        self.model = SentenceTransformer(modules=[encoder, pooling, Normalize()], device="cpu")

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """What sentence-transformers feeds the encoder: prefixed, truncated, with markers."""
        tokenizer, limit = self.model.tokenizer, self.model.max_seq_length
        prefixed = [self.served.prefix + text for text in texts]
        return list(tokenizer(prefixed, truncation=True, max_length=limit)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 64) -> Vectors:
        """Grouped as the served embedder groups (activations are quantised per call)."""
        out = np.zeros((len(texts), self.served.spec.dim), dtype=np.float32)
        prefixed = [self.served.prefix + text for text in texts]
        lengths = self.served.token_lengths(texts)
        groups = length_batches(lengths, batch_size, ATTENTION_BUDGET, self.served.group_ratio)
        for group in groups:
            out[group] = self.model.encode(
                [prefixed[i] for i in group],
                batch_size=len(group),
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return out
