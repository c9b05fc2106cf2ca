"""The fixed yardstick of issue 18: plain sentence-transformers on the float e5 folder.

Absolute texts/s on these shared cores vary by 2x from run to run, so the
ceiling is also reported as a ratio to this reference, measured in the same run
on the same texts: ``SentenceTransformer(<float e5-small folder>).encode(texts,
batch_size=64)`` with every other setting left at its default (torch's own
thread count, float32, sentence-transformers' length sorting inside the call).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REFERENCE_BATCH = 64


@dataclass(frozen=True)
class Reference:
    texts: int
    seconds: float
    folder: str
    batch_size: int = REFERENCE_BATCH

    @property
    def texts_per_s(self) -> float:
        return self.texts / self.seconds if self.seconds else 0.0


def float_e5_folder() -> Path:
    """The float32 e5-small folder that ``triage build-embedder`` made in the cache."""
    from services.classifier.embedding import formats
    from services.classifier.settings import ModelPaths

    folder = formats.e5_dir(ModelPaths().models_dir)
    if not formats.is_built(folder):
        raise FileNotFoundError(f"no float e5-small folder at {folder}; run `make embedder`")
    return folder


def measure_reference(texts: Sequence[str], folder: Path | None = None) -> Reference:
    """Seconds for one plain ``encode`` of ``texts`` (after a short warm-up)."""
    from sentence_transformers import SentenceTransformer

    where = folder or float_e5_folder()
    model = SentenceTransformer(str(where), device="cpu", local_files_only=True)
    model.encode(list(texts[:REFERENCE_BATCH]), batch_size=REFERENCE_BATCH)  # lazy init
    log.info("reference: %d texts through plain sentence-transformers (float)", len(texts))
    start = time.perf_counter()
    model.encode(list(texts), batch_size=REFERENCE_BATCH)
    seconds = time.perf_counter() - start
    del model
    gc.collect()
    return Reference(len(texts), seconds, where.name)
