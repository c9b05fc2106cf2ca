"""The fine-tuning loop of ``make bench-finetune``: SetFit's recipe in plain torch.

setfit, datasets and accelerate are not dependencies; sentence-transformers'
model, its CosineSimilarityLoss and a linear warm-up schedule from transformers
are all the loop needs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.models.finetune_pairs import Pair

log = logging.getLogger(__name__)
Floats = npt.NDArray[np.float32]
PREFIX = "query: "  # e5 was trained with this marker (as SentenceTransformerEmbedder adds it)


@dataclass(frozen=True)
class Recipe:
    pairs_per_row: int = 20
    max_pairs: int | None = None
    batch_size: int = 16
    lr: float = 2e-5
    warmup: float = 0.1  # SetFit's warm-up proportion (linear schedule)
    max_seq_length: int = 128  # training
    encode_max_tokens: int | None = None  # encoding, frozen and tuned alike (None: 512)
    seed: int = 0


def load_model(folder: Path, threads: int, max_tokens: int | None = None) -> Any:
    """The float model; ``max_tokens`` cuts texts when encoding (None: the model's 512)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(
        str(folder), device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32}
    )
    if max_tokens is not None:
        model.max_seq_length = max_tokens
    return model


def encode(model: Any, texts: list[str]) -> Floats:
    """As the serving embedder does: prefix, batch 64, L2-normalised float32."""
    vectors = model.encode(
        [PREFIX + t for t in texts],
        batch_size=64,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _freeze_word_embeddings(model: Any) -> None:
    frozen = [p for n, p in model.named_parameters() if n.endswith("word_embeddings.weight")]
    if len(frozen) != 1:
        raise ValueError(f"expected one word-embedding table, found {len(frozen)}")
    frozen[0].requires_grad_(False)


def fine_tune(model: Any, texts: list[str], pairs: list[Pair], recipe: Recipe) -> dict[str, Any]:
    """One epoch of CosineSimilarityLoss over ``pairs``; returns time and mean loss."""
    import torch
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(recipe.seed)
    _freeze_word_embeddings(model)
    full_length = model.max_seq_length
    model.max_seq_length = recipe.max_seq_length
    loss_fn = CosineSimilarityLoss(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.lr)
    steps = -(-len(pairs) // recipe.batch_size)
    schedule = get_linear_schedule_with_warmup(optimizer, int(recipe.warmup * steps), steps)
    model.train()
    losses: list[float] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(steps):
        batch = pairs[step * recipe.batch_size : (step + 1) * recipe.batch_size]
        features = [
            model.preprocess([PREFIX + texts[p.left] for p in batch]),
            model.preprocess([PREFIX + texts[p.right] for p in batch]),
        ]
        loss = loss_fn(features, torch.tensor([p.target for p in batch], dtype=torch.float32))
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if step % 10 == 0:
            log.info("step %d/%d loss %.4f", step, steps, np.mean(losses[-50:]))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    model.max_seq_length = full_length
    return {
        "pairs": len(pairs),
        "steps": steps,
        "train_s": seconds,
        # CPU time of the process: on a shared machine, wall time also counts waiting for
        # a core; CPU seconds / threads estimates the wall time on a quiet machine.
        "train_cpu_s": cpu_seconds,
        # Windows of a quarter of the run (at most 20 steps) so that first and last differ.
        "first_loss": float(np.mean(losses[: max(1, min(20, steps // 4))])),
        "last_loss": float(np.mean(losses[-max(1, min(20, steps // 4)) :])),
    }
