"""Feature space and head configuration: TF-IDF (word + char n-grams), embeddings, or both.

Measured on real labelled data (docs/benchmarks.md), concatenating TF-IDF with
the sentence embeddings beats either alone by 1-2.5 points within a language,
while the embeddings carry the cross-lingual signal; so "concat" is the default.
The TF-IDF vocabulary is fitted on PII-masked text with ``min_df=2``: a word seen
in a single case (typically a name) never enters the artifact.

Serving only applies the fitted state; fitting it is ``training/fitting.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse

from services.classifier.embedding.base import normalise_rows

FeatureMode = Literal["concat", "embedding", "tfidf"]
FEATURE_MODES: tuple[str, ...] = ("concat", "embedding", "tfidf")
# A scipy CSR matrix or a dense float32 array (scipy ships no type hints).
Matrix: TypeAlias = Any


@dataclass(frozen=True)
class FeatureConfig:
    mode: FeatureMode = "concat"
    # Scale of the (unit-norm) embedding block next to the two unit-norm TF-IDF blocks.
    embedding_weight: float = 1.0
    # Subtract the training mean and renormalise. e5 vectors crowd into a narrow cone
    # (any two texts have cosine ~0.8), so next to TF-IDF their signal is too weak for
    # a regularised head; centred, e5 + TF-IDF gained 2-8 points on the demo corpus.
    center_embeddings: bool = True
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    max_features: int = 200_000

    @property
    def uses_tfidf(self) -> bool:
        return self.mode in ("concat", "tfidf")

    @property
    def uses_embeddings(self) -> bool:
        return self.mode in ("concat", "embedding")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(
            mode=data["mode"],
            embedding_weight=float(data["embedding_weight"]),
            center_embeddings=bool(data.get("center_embeddings", False)),
            word_ngrams=tuple(data["word_ngrams"]),  # type: ignore[arg-type]
            char_ngrams=tuple(data["char_ngrams"]),  # type: ignore[arg-type]
            min_df=int(data["min_df"]),
            max_features=int(data["max_features"]),
        )


@dataclass(frozen=True)
class HeadConfig:
    # C is the inverse regularisation strength of the logistic regression.
    c: float = 10.0
    # Temperature scaling keeps the argmax and fixes over/under-confidence with a
    # single parameter, which a few hundred cases can estimate reliably.
    calibration: Literal["temperature", "sigmoid", "isotonic", "none"] = "temperature"
    calibration_folds: int = 3
    max_iter: int = 2000
    class_weight: str | None = "balanced"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadConfig:
        return cls(**data)


DECISIONS: tuple[str, ...] = ("argmax", "ordinal")


@dataclass(frozen=True)
class HeadRecipe:
    """What one head reads and how strongly it is regularised (chosen by ``triage train``).

    ``cues``: the cue lexicon's levels found in the text are two more features
    (urgency); ``decision``: "argmax" or "ordinal" (the median level of the
    predicted distribution, ``model/ordinal.py``; urgency levels are ordered).
    """

    mode: FeatureMode = "concat"
    c: float = 10.0
    cues: bool = False
    decision: str = "argmax"

    @property
    def name(self) -> str:
        extra = "+cues" if self.cues else ""
        extra += "+ordinal" if self.decision == "ordinal" else ""
        return f"{self.mode}{extra} C={self.c:g}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadRecipe:
        return cls(
            mode=data["mode"],
            c=float(data["c"]),
            cues=bool(data.get("cues", False)),
            decision=str(data.get("decision", "argmax")),
        )


@dataclass(frozen=True)
class ModelConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    # Per head ("type", "urgency"); a head absent here (every model trained before
    # per-head recipes) reads ``features.mode`` with ``head.c``.
    heads: dict[str, HeadRecipe] = field(default_factory=dict)

    def recipe(self, head: str) -> HeadRecipe:
        return self.heads.get(head) or HeadRecipe(self.features.mode, self.head.c)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"features": self.features.to_dict(), "head": self.head.to_dict()}
        if self.heads:
            out["heads"] = {name: r.to_dict() for name, r in self.heads.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(
            features=FeatureConfig.from_dict(data["features"]),
            head=HeadConfig.from_dict(data["head"]),
            heads={k: HeadRecipe.from_dict(v) for k, v in (data.get("heads") or {}).items()},
        )


def combine(
    config: FeatureConfig,
    tfidf_part: sparse.spmatrix | None,
    embeddings: npt.NDArray[np.float32],
    mode: str | None = None,
) -> Matrix:
    """The head input for ``mode`` (default ``config.mode``) from the TF-IDF block and
    the embeddings."""
    mode = mode or config.mode
    if mode == "embedding":
        return embeddings.astype(np.float32, copy=False)
    if tfidf_part is None:
        raise ValueError("TF-IDF features are required for mode " + mode)
    if mode == "tfidf":
        return sparse.csr_matrix(tfidf_part)
    dense = sparse.csr_matrix(embeddings.astype(np.float32, copy=False) * config.embedding_weight)
    return sparse.hstack([tfidf_part, dense], format="csr", dtype=np.float32)


def with_cues(x: Matrix, cue_levels: npt.NDArray[np.float32] | None) -> Matrix:
    """``x`` with the cue-level columns appended (``x`` unchanged when None)."""
    if cue_levels is None:
        return x
    if sparse.issparse(x):
        return sparse.hstack([x, sparse.csr_matrix(cue_levels)], format="csr", dtype=np.float32)
    return np.hstack([x, cue_levels]).astype(np.float32, copy=False)


def center(
    embeddings: npt.NDArray[np.float32], mean: npt.NDArray[np.float32] | None
) -> npt.NDArray[np.float32]:
    """``embeddings - mean``, rows renormalised to unit length (identity if mean is None)."""
    if mean is None:
        return embeddings
    return normalise_rows(embeddings - mean)


class FeatureSpace:
    """Applies the fitted TF-IDF part and the embedding centring.

    The embeddings themselves come from the embedder; ``tfidf`` (a fitted sklearn
    FeatureUnion) and ``embedding_mean`` are the fitted state, stored in the artifact.
    """

    def __init__(
        self,
        config: FeatureConfig,
        tfidf: Any | None = None,
        embedding_mean: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.config = config
        self.tfidf = tfidf
        self.embedding_mean = embedding_mean

    def transform(self, texts: list[str], embeddings: npt.NDArray[np.float32]) -> Matrix:
        return self.head_inputs(texts, embeddings, [HeadRecipe(self.config.mode)])[0]

    def head_inputs(
        self,
        texts: list[str],
        embeddings: npt.NDArray[np.float32],
        recipes: list[HeadRecipe],
        cue_levels: npt.NDArray[np.float32] | None = None,
    ) -> list[Matrix]:
        """One input per recipe; TF-IDF and the centring are computed once for all."""
        part = None
        if any(r.mode in ("concat", "tfidf") for r in recipes):
            if self.tfidf is None:
                raise ValueError("the TF-IDF vectoriser is not fitted")
            part = self.tfidf.transform(texts)
        centred = embeddings
        if any(r.mode != "tfidf" for r in recipes) and self.config.center_embeddings:
            if self.embedding_mean is None:
                raise ValueError("the embedding mean is not fitted")
            centred = center(embeddings, self.embedding_mean)
        # heads of the same mode share one matrix (the default model's two heads both
        # read TF-IDF + embedding: one sparse hstack per batch, not two)
        by_mode = {m: combine(self.config, part, centred, m) for m in {r.mode for r in recipes}}
        return [with_cues(by_mode[r.mode], cue_levels if r.cues else None) for r in recipes]
