"""The served model: a verified artifact plus the embedder it was trained with.

``TriageModel.predict`` takes texts that are already PII-masked, embeds the whole
batch in one call, and returns for each text the top types and urgencies, the
confidence-gate decision with its reasons, and the nearest training cases
(ids and labels only: the artifact holds no text).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.embedding.base import Embedder, EmbedderSpec
from services.classifier.model.artifact import ArtifactError, load_artifact, read_manifest
from services.classifier.model.cue_features import Finder, cue_levels
from services.classifier.model.features import FeatureSpace, HeadRecipe, ModelConfig
from services.classifier.model.gate import (
    REASON_CLOSE_CALL,
    REASON_LOW_CONFIDENCE,
    REASON_UNKNOWN_TYPE,
    UnknownRule,
    top_two,
)
from services.classifier.model.ordinal import decide

log = logging.getLogger(__name__)

TOP_K = 3
NEIGHBOURS_K = 3


@dataclass(frozen=True)
class Scored:
    label: str
    probability: float


@dataclass(frozen=True)
class Neighbour:
    case_id: str
    type: str
    urgency: str | None
    similarity: float


@dataclass(frozen=True)
class Prediction:
    type: str
    type_confidence: float
    top_types: list[Scored]
    urgency: str | None  # None when the model was trained without urgency labels
    urgency_confidence: float
    top_urgencies: list[Scored]
    needs_review: bool
    review_reasons: list[str]  # REASON_LOW_CONFIDENCE, REASON_CLOSE_CALL, REASON_UNKNOWN_TYPE
    neighbours: list[Neighbour]
    # The text's embedding (unit norm), for the router's duplicate search.
    embedding: npt.NDArray[np.float32] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["embedding"]
        return out


@dataclass
class Scores:
    """Raw batch outputs, for evaluation and for ``predict``."""

    embeddings: npt.NDArray[np.float32]
    type_proba: npt.NDArray[np.float64]
    urgency_proba: npt.NDArray[np.float64] | None


def _top(proba: npt.NDArray[np.float64], classes: list[str], k: int) -> list[list[Scored]]:
    k = min(k, proba.shape[1])
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return [
        [Scored(classes[j], float(row[j])) for j in idx]
        for row, idx in zip(proba, order, strict=True)
    ]


class TriageModel:
    def __init__(
        self,
        model_dir: Path,
        manifest: dict[str, Any],
        features: FeatureSpace,
        type_head: Any,
        urgency_head: Any | None,
        neighbours: Any,
        embedder: Embedder,
        config: ModelConfig | None = None,
        lexicon: Finder | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.manifest = manifest
        self.embedder = embedder
        self._features = features
        self._type_head = type_head
        self._urgency_head = urgency_head
        self.type_labels = [str(c) for c in type_head.classes_]
        self.urgency_labels = [str(c) for c in urgency_head.classes_] if urgency_head else []
        gate = manifest["gate"]
        self._thresholds = np.array(
            [float(gate["type_thresholds"].get(label, 1.0)) for label in self.type_labels]
        )
        self.margin_threshold = float(gate["margin"])
        self.unknown = UnknownRule.from_gate(gate)
        config = config or ModelConfig(features=features.config)
        self._recipes = [config.recipe("type")]
        if urgency_head is not None:
            self._recipes.append(config.recipe("urgency"))
        if any(r.cues for r in self._recipes) and lexicon is None:
            raise ArtifactError(f"{model_dir}: a head reads cue features but no lexicon was given")
        self._lexicon = lexicon
        # float32 once at load: the matmul per batch is then a single BLAS call.
        self._nn_vectors = np.ascontiguousarray(neighbours.embeddings, dtype=np.float32)
        self._nn_ids = neighbours.ids
        self._nn_types = neighbours.types
        self._nn_urgencies = neighbours.urgencies

    @classmethod
    def load(
        cls, model_dir: str | Path, embedder: Embedder, manifest: dict[str, Any] | None = None
    ) -> TriageModel:
        """Verify checksums, check the embedder matches the recorded one, load.

        ``manifest``: the directory's manifest when the caller has read it already.
        """
        model_dir = Path(model_dir)
        if manifest is None:
            manifest = read_manifest(model_dir)
        # The embedder check is cheap: fail on it before deserialising anything.
        recorded = EmbedderSpec.from_dict(manifest["embedder"])
        if embedder.spec != recorded:
            raise ArtifactError(
                f"{model_dir}: trained with embedder {recorded.backend}/{recorded.name} "
                f"(weights {recorded.weights_sha256[:12]}…, dim {recorded.dim}) but asked to "
                f"serve with {embedder.spec.backend}/{embedder.spec.name} "
                f"(weights {embedder.spec.weights_sha256[:12]}…, dim {embedder.spec.dim}); "
                "load the recorded embedder or retrain the model"
            )
        artifact = load_artifact(model_dir, manifest)
        config = ModelConfig.from_dict(artifact.manifest["config"])
        features = FeatureSpace(config.features, artifact.tfidf, artifact.embedding_mean)
        lexicon = None
        if any(r.cues for r in config.heads.values()):
            from services.classifier.cues import CueLexicon

            # The packaged lexicon, the one training read and the service applies.
            lexicon = CueLexicon.load()
        model = cls(
            model_dir,
            artifact.manifest,
            features,
            artifact.type_head,
            artifact.urgency_head,
            artifact.neighbours,
            embedder,
            config,
            lexicon,
        )
        log.info(
            "loaded model %s (%d types) from %s",
            model.model_version,
            len(model.type_labels),
            model_dir,
        )
        return model

    @property
    def model_version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def embedder_spec(self) -> EmbedderSpec:
        return EmbedderSpec.from_dict(self.manifest["embedder"])

    def score(
        self,
        texts: list[str],
        batch_size: int = 64,
        show_progress: bool = False,
        windows: list[str] | None = None,
    ) -> Scores:
        """Embed (one call for the batch) and run both heads.

        ``windows``: what the embedder reads instead of each text (the window of a
        long request, ``services/classifier/window.py``); TF-IDF reads ``texts``.
        """
        embedded = texts if windows is None else windows
        emb = np.asarray(
            self.embedder.encode(embedded, batch_size=batch_size, show_progress=show_progress),
            dtype=np.float32,
        )
        cues = None
        if self._lexicon is not None and any(r.cues for r in self._recipes):
            cues = cue_levels(self._lexicon, texts)
        inputs = self._features.head_inputs(texts, emb, self._recipes, cues)
        urgency = None
        if self._urgency_head is not None:
            urgency = self._urgency_head.predict_proba(inputs[1])
        return Scores(emb, self._type_head.predict_proba(inputs[0]), urgency)

    @property
    def urgency_recipe(self) -> HeadRecipe | None:
        return self._recipes[1] if len(self._recipes) > 1 else None

    def neighbours(
        self, embeddings: npt.NDArray[np.float32], k: int = NEIGHBOURS_K
    ) -> list[list[Neighbour]]:
        """The k most similar training cases by cosine (vectors are unit-norm)."""
        n_train = len(self._nn_ids)
        if n_train == 0 or len(embeddings) == 0:
            return [[] for _ in range(len(embeddings))]
        k = min(k, n_train)
        sims = embeddings @ self._nn_vectors.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.take_along_axis(part, np.argsort(-part_sims, axis=1), axis=1)
        out = []
        for row, idx in enumerate(order):
            out.append(
                [
                    Neighbour(
                        str(self._nn_ids[j]),
                        str(self._nn_types[j]),
                        str(self._nn_urgencies[j]) or None,
                        float(sims[row, j]),
                    )
                    for j in idx
                ]
            )
        return out

    def predict(self, texts: list[str], windows: list[str] | None = None) -> list[Prediction]:
        """Predictions for already PII-masked ``texts`` (one embed call for the batch).

        ``windows``: what the embedder reads of each text, when not the text itself.
        """
        if not texts:
            return []
        scores = self.score(texts, windows=windows)
        top_idx, confidence, margin = top_two(scores.type_proba)
        low = confidence < self._thresholds[top_idx]
        close = margin < self.margin_threshold
        unknown = self.unknown.flags(
            np.asarray(self.type_labels, dtype=np.str_)[top_idx], confidence
        )
        types_top = _top(scores.type_proba, self.type_labels, TOP_K)
        urgencies = self._urgencies(scores.urgency_proba, len(texts))
        near = self.neighbours(scores.embeddings)
        results = []
        for i in range(len(texts)):
            checks = (
                (REASON_LOW_CONFIDENCE, low[i]),
                (REASON_CLOSE_CALL, close[i]),
                (REASON_UNKNOWN_TYPE, unknown[i]),
            )
            reasons = [r for r, hit in checks if hit]
            urgency_top, best_urgency = urgencies[i]
            results.append(
                Prediction(
                    type=types_top[i][0].label,
                    type_confidence=types_top[i][0].probability,
                    top_types=types_top[i],
                    urgency=best_urgency.label if best_urgency else None,
                    urgency_confidence=best_urgency.probability if best_urgency else 0.0,
                    top_urgencies=urgency_top,
                    needs_review=bool(reasons),
                    review_reasons=reasons,
                    neighbours=near[i],
                    embedding=scores.embeddings[i],
                )
            )
        return results

    def _urgencies(
        self, proba: npt.NDArray[np.float64] | None, rows: int
    ) -> list[tuple[list[Scored], Scored | None]]:
        """Per row: the top urgencies (for the explanation) and the decided one."""
        recipe = self.urgency_recipe
        if proba is None or recipe is None:
            return [([], None) for _ in range(rows)]
        chosen = decide(proba, self.urgency_labels, recipe.decision)
        return [
            (top, Scored(self.urgency_labels[j], float(proba[i, j])))
            for i, (top, j) in enumerate(
                zip(_top(proba, self.urgency_labels, TOP_K), chosen, strict=True)
            )
        ]
