"""Embedder running the int8 ONNX e5 build with onnxruntime, tokenizers and numpy.

No torch, transformers or sentence-transformers in the serving process: they
took about 400 MB of the classifier's resident memory for a tokeniser call and
a mean. The folder is still a complete sentence-transformers folder, and this
class does what sentence-transformers did with it, step for step (prefix,
tokenise with truncation, pad with ``<pad>``, encoder, mean over the attention
mask, L2 normalisation): an integration test checks the vectors against the
sentence-transformers path on the same file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.embedding import checksums
from services.classifier.embedding.base import EmbedderSpec, Vectors, normalise_rows
from services.classifier.embedding.formats import ONNX_BUILD_FORMAT
from services.classifier.embedding.sentence_transformer import resolve_folder

logger = logging.getLogger(__name__)

BACKEND = "sentence-transformers-onnx"
# Attention cells (texts x tokens^2) per onnxruntime call: 64 texts of 128
# tokens, or 4 of 512; about 50 MB of scores per layer instead of 805 MB.
ATTENTION_BUDGET = 64 * 128 * 128
# A group of texts is closed when the next (shorter) text is under this share of
# the group's longest: padding costs as much as text, and these requests vary a
# lot in length. At 0.9, 64 bench texts (103 tokens on average) were padded to 107
# instead of 160 tokens (docs/benchmarks.md, "Embedder speed (issue 18)").
GROUP_RATIO = 0.85
# Mean pooling divides by the token count, clamped like sentence-transformers does.
_MIN_TOKENS = 1e-9


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


def _manifest(folder: Path) -> dict[str, object]:
    manifest = checksums.read_manifest(folder)
    if manifest is None or manifest.get("format") != ONNX_BUILD_FORMAT:
        raise ValueError(
            f"{folder} is not an int8 ONNX build of e5; run `triage build-embedder` "
            "(it builds the ONNX copy too)"
        )
    return manifest


def _json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _check_pooling(folder: Path) -> int:
    """The embedding dimension; only mean pooling is what this class computes."""
    pooling = _json(folder / "1_Pooling" / "config.json")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{folder}: pooling {modes} is not supported (mean tokens only)")
    return int(pooling["word_embedding_dimension"])


def load_tokenizer(folder: Path) -> tuple[Any, int]:
    """The folder's fast tokeniser set up as transformers would, and its pad id."""
    from tokenizers import Tokenizer

    config = _json(folder / "tokenizer_config.json")
    module = _json(folder / "sentence_bert_config.json")
    if module.get("do_lower_case"):
        raise ValueError(f"{folder}: lower-casing tokenisers are not supported")
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # each group is padded to its own longest text below
    tokenizer.enable_truncation(max_length=int(module["max_seq_length"]))
    # ``split_special_tokens``: a literal "</s>" in a request is text, not a marker.
    tokenizer.encode_special_tokens = bool(config.get("split_special_tokens", False))
    pad_id = tokenizer.token_to_id(str(config["pad_token"]))
    if pad_id is None:
        raise ValueError(f"{folder}: the pad token is not in the vocabulary")
    return tokenizer, int(pad_id)


def mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    """Mean of the unmasked token vectors of each row, then L2-normalised."""
    weights = mask[:, :, None].astype(np.float32)
    sums = np.einsum("bth,bt->bh", hidden, weights[:, :, 0])
    counts = np.maximum(weights.sum(axis=1), _MIN_TOKENS)
    return normalise_rows(sums / counts)


class OnnxEmbedder:
    """L2-normalised float32 embeddings from the int8 ONNX e5 build."""

    def __init__(
        self, path: str | Path, *, threads: int | None = None, group_ratio: float = GROUP_RATIO
    ) -> None:
        import onnxruntime as ort

        self.folder = resolve_folder(path)
        manifest = _manifest(self.folder)
        self.prefix = str(manifest.get("prefix", ""))
        self.onnx_file = str(manifest["onnx_file"])
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.group_ratio = group_ratio
        dim = _check_pooling(self.folder)
        self.tokenizer, self.pad_id = load_tokenizer(self.folder)
        self.session = ort.InferenceSession(
            str(self.folder / self.onnx_file),
            session_options(self.threads),
            providers=["CPUExecutionProvider"],
        )
        self._spec = EmbedderSpec(
            backend=BACKEND,
            name=str(manifest.get("name", self.folder.name)),
            weights_sha256=checksums.folder_digest(self.folder),
            dim=dim,
        )
        logger.info("loaded %s from %s (%d threads)", self._spec.name, self.folder, self.threads)

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text with its prefix, as sentence-transformers made them."""
        prefixed = [self.prefix + text for text in texts]
        return [e.ids for e in self.tokenizer.encode_batch(prefixed, add_special_tokens=True)]

    def token_lengths(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.token_ids(texts)]

    def _run(self, rows: list[list[int]]) -> Vectors:
        longest = max(len(ids) for ids in rows)
        input_ids = np.full((len(rows), longest), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), longest), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, : len(ids)] = ids
            mask[i, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return mean_pool(hidden, mask)

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        out = np.zeros((len(texts), self._spec.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        lengths = [len(row) for row in ids]
        groups: Any = length_batches(lengths, batch_size, ATTENTION_BUDGET, self.group_ratio)
        if show_progress:
            from tqdm import tqdm

            groups = tqdm(groups, desc="Embedding (e5 int8)", unit="batch")
        for group in groups:
            out[group] = self._run([ids[i] for i in group])
        return out


def length_batches(
    lengths: list[int], batch_size: int, budget: int, ratio: float = 0.0
) -> list[list[int]]:
    """Indices grouped longest first: each group within ``batch_size`` and ``budget``,
    and no text in it shorter than ``ratio`` times its longest.

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
            fits = len(group) < batch_size and (len(group) + 1) * longest * longest <= budget
            if fits and lengths[index] >= ratio * longest:
                group.append(index)
                continue
        groups.append([index])
    return groups
