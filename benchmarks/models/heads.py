"""The heads as ``triage train`` builds them, measured beside TF-IDF alone (issue 18).

For one dataset split: each head's recipe chosen by cross-validation on the
training rows with the held-out guard (``training/recipes.py``), refitted on
every training row, scored on the test rows; the unknown-type rule calibrated
on the training rows' held-out part; urgency recall per level. ``demo_corpus``
compares the recipe of the default demo model before this issue (TF-IDF +
embeddings for both heads, C=10) with the chosen one, per language.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.cues import CueLexicon, raise_urgency
from services.classifier.model.cue_features import cue_levels
from services.classifier.model.features import ModelConfig
from services.classifier.model.gate import UnknownRule, top_two
from services.classifier.model.ordinal import decide
from services.classifier.training import metrics as met
from services.classifier.training import unknown as unk
from services.classifier.training.data import CaseSet
from services.classifier.training.heads import FittedHeads, fit_heads
from services.classifier.training.recipes import Rows, choose
from services.classifier.training.trainer import stratified_split

Floats = npt.NDArray[np.float32]
UNKNOWN_RATES = (0.02, 0.05, 0.10)


def subset(cases: CaseSet, rows: npt.NDArray[np.intp]) -> CaseSet:
    def pick(values: list[str] | None) -> list[str] | None:
        return None if values is None else [values[i] for i in rows]

    return CaseSet(
        cases.source,
        cases.sha256,
        [cases.ids[i] for i in rows],
        [cases.texts[i] for i in rows],
        [cases.types[i] for i in rows],
        pick(cases.urgencies),
        pick(cases.languages),
    )


def head_block(truth: list[str], proba: Any, classes: list[str], decision: str) -> dict[str, Any]:
    """Accuracy, macro-F1, ECE and recall per label of one head's decided labels."""
    block = met.head_metrics(truth, proba, classes, decision)
    recall = {label: c["recall"] for label, c in block["per_class"].items()}
    return {**{k: block[k] for k in ("accuracy", "macro_f1", "ece")}, "recall": recall}


def unknown_scores(
    truth: list[str], proba: Any, classes: list[str], rule: UnknownRule
) -> dict[str, float]:
    top, confidence, _ = top_two(proba)
    predicted = np.asarray(classes, dtype=np.str_)[top]
    flagged = rule.flags(predicted, confidence)
    return unk.scores(truth, [str(p) for p in predicted], flagged, rule.labels)


def _cues(texts: list[str], wanted: bool) -> Floats | None:
    return cue_levels(CueLexicon.load(), texts) if wanted else None


def fit_chosen(
    train: CaseSet, texts: list[str], emb: Floats, seed: int, select_rows: int
) -> tuple[FittedHeads, FittedHeads, Rows, dict[str, Any]]:
    """(heads on every training row, heads on its 80% part, the rows, the choice report)."""
    labels = {"type": train.types}
    if train.urgencies:
        labels["urgency"] = train.urgencies
    tr, va = stratified_split(train.types, 0.2, seed)
    rows = Rows(texts, emb, labels, _cues(texts, bool(train.urgencies)), tr, va)
    config, part_heads, report = choose(rows, ModelConfig(), seed, select_rows)
    full = fit_heads(config, texts, emb, train.types, train.urgencies, seed, rows.cues)
    return full, part_heads, rows, report


def calibrated_rules(part: FittedHeads, rows: Rows) -> dict[float, UnknownRule]:
    """The unknown-type rule at each rate, from the training rows' held-out part."""
    cues = None if rows.cues is None else rows.cues[rows.val]
    proba, _ = part.predict_proba([rows.texts[i] for i in rows.val], rows.emb[rows.val], cues)
    truth = [rows.labels["type"][i] for i in rows.val]
    classes = [str(c) for c in part.type_head.classes_]
    confidence = top_two(proba)[1]
    labels = unk.unknown_labels(classes)
    return {rate: unk.calibrate(truth, confidence, labels, rate) for rate in UNKNOWN_RATES}


def score_chosen(
    split: Any, vectors: tuple[Floats, Floats], seed: int, select_rows: int
) -> dict[str, Any]:
    """The ``triage train`` recipe on ``split`` (a ``run.Split``), scored on its test rows."""
    start = time.perf_counter()
    heads, part, rows, report = fit_chosen(
        split.train, split.train_texts, vectors[0], seed, select_rows
    )
    out: dict[str, Any] = {"fit_s": time.perf_counter() - start, "selection": report}
    out["recipes"] = {h: r.name for h, r in heads.config.heads.items()}
    test_cues = _cues(split.test_texts, heads.urgency_head is not None)
    type_p, urgency_p = heads.predict_proba(split.test_texts, vectors[1], test_cues)
    type_classes = [str(c) for c in heads.type_head.classes_]
    out["type"] = head_block(split.test.types, type_p, type_classes, "argmax")
    if urgency_p is not None and heads.urgency_head is not None and split.test.urgencies:
        classes = [str(c) for c in heads.urgency_head.classes_]
        decision = heads.recipes[1].decision
        out["urgency"] = head_block(split.test.urgencies, urgency_p, classes, decision)
    rules = calibrated_rules(part, rows)
    out["unknown"] = {
        f"{rate:g}": {
            "threshold": rule.threshold,
            **unknown_scores(split.test.types, type_p, type_classes, rule),
        }
        for rate, rule in rules.items()
    }
    explicit = UnknownRule(0.0, unk.unknown_labels(type_classes))
    out["unknown"]["argmax"] = unknown_scores(split.test.types, type_p, type_classes, explicit)
    return out


def with_cue_overrides(texts: list[str], predicted: list[str]) -> list[str]:
    """The urgency after the lexicon raised it, as the service decides it."""
    lexicon = CueLexicon.load()
    return [str(raise_urgency(p, lexicon.find(t))) for p, t in zip(predicted, texts, strict=True)]


def _decided(heads: FittedHeads, texts: list[str], emb: Floats) -> tuple[list[str], list[str]]:
    cues = _cues(texts, any(r.cues for r in heads.recipes))
    type_p, urgency_p = heads.predict_proba(texts, emb, cues)
    assert urgency_p is not None and heads.urgency_head is not None
    types = [str(heads.type_head.classes_[i]) for i in type_p.argmax(axis=1)]
    classes = [str(c) for c in heads.urgency_head.classes_]
    chosen = decide(urgency_p, classes, heads.recipes[1].decision)
    return types, [classes[i] for i in chosen]


def demo_corpus(cases: CaseSet, texts: list[str], emb: Floats, seed: int) -> dict[str, Any]:
    """Default-model recipe before (concat, C=10) and now (chosen), 80/20 by type."""
    assert cases.urgencies is not None and cases.languages is not None
    tr, te = stratified_split(cases.types, 0.2, seed)
    pick = lambda values, idx: [values[i] for i in idx]  # noqa: E731
    train = subset(cases, tr)
    train_texts, test_texts = pick(texts, tr), pick(texts, te)
    start = time.perf_counter()
    before = fit_heads(ModelConfig(), train_texts, emb[tr], train.types, train.urgencies, seed)
    before_s = time.perf_counter() - start
    start = time.perf_counter()
    now, _, _, report = fit_chosen(train, train_texts, emb[tr], seed, 3000)
    now_s = time.perf_counter() - start
    truth_types, truth_urg = pick(cases.types, te), pick(cases.urgencies, te)
    languages = pick(cases.languages, te)
    out: dict[str, Any] = {"train_rows": len(tr), "test_rows": len(te), "selection": report}
    for name, heads, fit_s in (("before", before, before_s), ("now", now, now_s)):
        types, urgencies = _decided(heads, test_texts, emb[te])
        final = with_cue_overrides(test_texts, urgencies)
        out[name] = {
            "fit_s": fit_s,
            "recipes": {h: heads.config.recipe(h).name for h in ("type", "urgency")},
            "type": met.summary(truth_types, types),
            "urgency": _urgency_block(truth_urg, urgencies),
            "urgency_after_cues": _urgency_block(truth_urg, final),
            "per_language": _per_language(languages, truth_types, types, truth_urg, final),
        }
    return out


def _urgency_block(truth: list[str], predicted: list[str]) -> dict[str, Any]:
    labels = sorted(set(truth))
    t, p = np.asarray(truth), np.asarray(predicted)
    recall = {label: float((p[t == label] == label).mean()) for label in labels}
    return {**met.summary(truth, predicted), "recall": recall}


def _per_language(
    languages: list[str],
    types: list[str],
    predicted_types: list[str],
    urgencies: list[str],
    predicted_urgencies: list[str],
) -> dict[str, Any]:
    out = {}
    for lang in sorted(set(languages)):
        idx = [i for i, value in enumerate(languages) if value == lang]
        out[lang] = {
            "rows": len(idx),
            "type": met.summary([types[i] for i in idx], [predicted_types[i] for i in idx]),
            "urgency": met.summary(
                [urgencies[i] for i in idx], [predicted_urgencies[i] for i in idx]
            ),
        }
    return out
