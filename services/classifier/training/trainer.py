"""Training pipeline: mask, embed, split, choose recipes, fit heads, validate, gate, write.

The validation split is stratified by type and held out from fitting. Each
head's recipe is chosen by cross-validation on the training split only
(``selection.py``); the held-out split then checks the choice against TF-IDF
alone (``guard``) and its predictions give the reported metrics, the
confidence-gate thresholds and the unknown-type threshold (``unknown.py``). The
served heads are then refitted on every row (more data helps most on the small
corpora administrations have); the gate thresholds, estimated on a model that
saw 20% fewer rows, are therefore slightly conservative.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split

from services.classifier.cues import CueLexicon
from services.classifier.embedding.base import Embedder, EmbedderSpec
from services.classifier.model import artifact as art
from services.classifier.model.cue_features import cue_levels
from services.classifier.model.features import ModelConfig
from services.classifier.model.gate import top_two
from services.classifier.training import metrics as met
from services.classifier.training import thresholds as thr
from services.classifier.training import unknown as unk
from services.classifier.training.data import CaseSet, DataError
from services.classifier.training.heads import FittedHeads, fit_heads
from services.classifier.training.recipes import Rows, choose
from services.classifier.training.selection import MAX_ROWS

log = logging.getLogger(__name__)
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class TrainOptions:
    config: ModelConfig = field(default_factory=ModelConfig)
    target_precision: float = 0.9
    validation_fraction: float = 0.2
    seed: int = 0
    refit_full: bool = True
    batch_size: int = 64
    show_progress: bool = True
    notes: dict[str, Any] = field(default_factory=dict)  # copied into the manifest
    # Choose each head's recipe by cross-validation (False: ``config`` as given).
    select: bool = True
    select_rows: int = MAX_ROWS
    unknown_rate: float = unk.DEFAULT_RATE


def mask_texts(texts: list[str]) -> list[str]:
    """PII-mask every text before it reaches a vectoriser, an embedder or a file."""
    from shared.pii import mask

    return [mask(t) for t in texts]


def stratified_split(
    labels: list[str], fraction: float, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Train and validation indices, stratified by label (every label in both)."""
    n, n_labels = len(labels), len(set(labels))
    size = max(n_labels, round(n * fraction))
    if n - size < n_labels:
        raise DataError(
            f"{n} rows are too few to hold out a validation split for {n_labels} labels"
        )
    index = np.arange(n)
    train_idx, val_idx = train_test_split(index, test_size=size, stratify=labels, random_state=seed)
    return np.sort(train_idx), np.sort(val_idx)


def _pick(values: list[str] | None, idx: npt.NDArray[np.intp]) -> list[str] | None:
    return None if values is None else [values[i] for i in idx]


def _gate(
    y_true: list[str], proba: npt.NDArray[np.float64], classes: list[str], options: TrainOptions
) -> dict[str, Any]:
    target = options.target_precision
    top, confidence, margin = top_two(proba)
    predicted = np.asarray(classes)[top]
    rule = unk.calibrate(y_true, confidence, unk.unknown_labels(classes), options.unknown_rate)
    unknown = unk.gate_block(
        rule, options.unknown_rate, y_true, [str(p) for p in predicted], confidence
    )
    correct = predicted == np.asarray(y_true)
    details = thr.class_thresholds(classes, predicted, confidence, correct, target)
    thresholds = {label: d["threshold"] for label, d in details.items()}
    margin_min = thr.margin_threshold(margin, correct)
    return {
        "target_precision": target,
        "type_thresholds": thresholds,
        "margin": margin_min,
        "threshold_details": details,
        "validation": thr.gate_summary(
            predicted, confidence, margin, correct, thresholds, margin_min
        ),
        "unknown": unknown,
    }


def _per_language(
    languages: list[str] | None,
    y_true: list[str],
    proba: npt.NDArray[np.float64],
    classes: list[str],
) -> dict[str, dict[str, float]]:
    if languages is None:
        return {}
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    out: dict[str, dict[str, float]] = {}
    for lang in sorted(set(languages)):
        rows = [i for i, value in enumerate(languages) if value == lang]
        out[lang] = {
            "rows": len(rows),
            **met.summary([y_true[i] for i in rows], [str(predicted[i]) for i in rows]),
        }
    return out


def _rows(cases: CaseSet, texts: list[str], emb: Floats, options: TrainOptions) -> Rows:
    train_idx, val_idx = stratified_split(cases.types, options.validation_fraction, options.seed)
    log.info("validation split: %d train rows, %d held out", len(train_idx), len(val_idx))
    labels = {"type": cases.types}
    cues = None
    if cases.urgencies:
        labels["urgency"] = cases.urgencies
        cues = cue_levels(CueLexicon.load(), texts)
    return Rows(texts, emb, labels, cues, train_idx, val_idx)


def _fit_train(
    rows: Rows, options: TrainOptions
) -> tuple[ModelConfig, FittedHeads, dict[str, Any]]:
    """The config (recipes chosen when ``options.select``), its heads on the train split."""
    if options.select:
        return choose(rows, options.config, options.seed, options.select_rows)
    return options.config, rows.fit(options.config, options.seed), {}


def _validate(
    rows: Rows, cases: CaseSet, heads: FittedHeads, options: TrainOptions
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score the validation split with heads fitted on the train split: (metrics, gate)."""
    val_idx = rows.val
    cues = None if rows.cues is None else rows.cues[val_idx]
    type_proba, urgency_proba = heads.predict_proba(
        [rows.texts[i] for i in val_idx], rows.emb[val_idx], cues
    )
    type_classes = [str(c) for c in heads.type_head.classes_]
    val_types = [cases.types[i] for i in val_idx]
    metrics: dict[str, Any] = {"rows": len(val_idx)}
    metrics["type"] = _light(met.head_metrics(val_types, type_proba, type_classes))
    val_urgencies = _pick(cases.urgencies, val_idx)
    if urgency_proba is not None and val_urgencies is not None and heads.urgency_head:
        urgency_classes = [str(c) for c in heads.urgency_head.classes_]
        decision = heads.recipes[1].decision
        block = met.head_metrics(val_urgencies, urgency_proba, urgency_classes, decision)
        metrics["urgency"] = _light(block)
    metrics["per_language"] = _per_language(
        _pick(cases.languages, val_idx), val_types, type_proba, type_classes
    )
    gate = _gate(val_types, type_proba, type_classes, options)
    return metrics, gate


def _light(block: dict[str, Any]) -> dict[str, Any]:
    # The confusion matrix belongs to `triage evaluate`, not to every manifest.
    return {k: v for k, v in block.items() if k != "confusion_matrix"}


def train_from_embeddings(
    cases: CaseSet,
    texts: list[str],
    emb: Floats,
    spec: EmbedderSpec,
    out: Path,
    options: TrainOptions,
) -> dict[str, Any]:
    """Train on already masked ``texts`` and their embeddings; write the artifact."""
    rows = _rows(cases, texts, emb, options)
    config, train_heads, selection = _fit_train(rows, options)
    metrics, gate = _validate(rows, cases, train_heads, options)
    log.info(
        "validation type accuracy %.3f macro-F1 %.3f",
        metrics["type"]["accuracy"],
        metrics["type"]["macro_f1"],
    )
    heads = train_heads
    if options.refit_full:
        heads = fit_heads(config, texts, emb, cases.types, cases.urgencies, options.seed, rows.cues)
    urgency_labels = [str(c) for c in heads.urgency_head.classes_] if heads.urgency_head else []
    neighbours = art.Neighbours(
        embeddings=emb.astype(np.float16),
        ids=np.asarray(cases.ids, dtype=np.str_),
        types=np.asarray(cases.types, dtype=np.str_),
        urgencies=np.asarray(cases.urgencies or [""] * len(cases), dtype=np.str_),
    )
    manifest = {
        "embedder": spec.to_dict(),
        "config": heads.config.to_dict(),
        "labels": {"type": [str(c) for c in heads.type_head.classes_], "urgency": urgency_labels},
        "gate": gate,
        "notes": options.notes,
        "metrics": {"validation": metrics},
        "selection": selection,
        "training": {
            "file": cases.source,
            "sha256": cases.sha256,
            "rows": len(cases),
            "type_counts": dict(sorted(Counter(cases.types).items())),
            "urgency_counts": dict(sorted(Counter(cases.urgencies or []).items())),
            "seed": options.seed,
            "validation_fraction": options.validation_fraction,
            "refit_full": options.refit_full,
        },
    }
    artifact = art.Artifact(
        manifest,
        heads.features.tfidf,
        heads.type_head,
        heads.urgency_head,
        neighbours,
        heads.features.embedding_mean,
    )
    return art.write_artifact(out, artifact)


def train_model(
    cases: CaseSet, embedder: Embedder, out: Path, options: TrainOptions
) -> dict[str, Any]:
    """Mask, embed (one pass, with a progress bar) and train; return the manifest."""
    texts = mask_texts(cases.texts)
    log.info("embedding %d cases with %s", len(texts), embedder.spec.name)
    emb = embedder.encode(texts, batch_size=options.batch_size, show_progress=options.show_progress)
    return train_from_embeddings(
        cases, texts, np.asarray(emb, dtype=np.float32), embedder.spec, out, options
    )
