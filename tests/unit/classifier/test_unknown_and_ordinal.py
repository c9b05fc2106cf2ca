"""Pure decisions of the heads: unknown type, ordinal urgency, cue features."""

from __future__ import annotations

import numpy as np
import pytest

from services.classifier.cues import CueLexicon
from services.classifier.model.cue_features import cue_levels
from services.classifier.model.gate import UnknownRule
from services.classifier.model.ordinal import decide, median_choice, ordinal_order
from services.classifier.training import unknown as unk


def test_unknown_rule_flags_low_confidence_and_explicit_labels() -> None:
    rule = UnknownRule(threshold=0.4, labels=("oos",))
    predicted = np.asarray(["housing", "oos", "housing"], dtype=np.str_)
    flags = rule.flags(predicted, np.asarray([0.9, 0.95, 0.3]))
    assert flags.tolist() == [False, True, True]


def test_default_rule_flags_nothing_and_reads_old_gates() -> None:
    assert UnknownRule.from_gate({"margin": 0.05}) == UnknownRule()
    flags = UnknownRule().flags(np.asarray(["a"], dtype=np.str_), np.asarray([0.0]))
    assert flags.tolist() == [False]
    rule = UnknownRule.from_gate({"unknown": {"threshold": 0.2, "labels": ["oos"]}})
    assert rule == UnknownRule(0.2, ("oos",))


def test_unknown_labels_are_found_case_insensitively() -> None:
    assert unk.unknown_labels(["housing", "OOS", "food"]) == ("OOS",)
    assert unk.unknown_labels(["housing"]) == ()


def test_calibration_flags_the_rate_of_known_rows() -> None:
    truth = ["a"] * 100 + ["oos"] * 10
    confidence = np.concatenate([np.linspace(0.01, 1.0, 100), np.full(10, 0.001)])
    rule = unk.calibrate(truth, confidence, ("oos",), rate=0.1)
    # oos rows are left out: the quantile is over the known rows only.
    assert rule.threshold == pytest.approx(np.quantile(np.linspace(0.01, 1.0, 100), 0.1))
    assert unk.calibrate(truth, confidence, (), rate=0.0).threshold == 0.0


def test_scores_count_flagged_unknown_rows_as_right() -> None:
    truth = ["a", "b", "oos", "oos"]
    predicted = ["a", "a", "a", "oos"]
    flagged = np.asarray([False, False, True, True])
    got = unk.scores(truth, predicted, flagged, ("oos",))
    assert got == {
        "accuracy": 0.75,
        "in_scope_accuracy": 0.5,
        "in_scope_flagged": 0.0,
        "oos_recall": 1.0,
    }
    assert "oos_recall" not in unk.scores(["a"], ["a"], np.asarray([True]), ("oos",))


def test_ordinal_order_needs_known_distinct_levels() -> None:
    assert ordinal_order(["critical", "high", "low", "normal"]) == [2, 3, 1, 0]
    assert ordinal_order(["high", "low", "medium"]) == [1, 2, 0]
    assert ordinal_order(["normal", "medium"]) is None  # the same rank twice
    assert ordinal_order(["housing", "food"]) is None


def test_median_level_lands_between_split_ends() -> None:
    labels = ["critical", "high", "low", "normal"]
    proba = np.asarray([[0.35, 0.30, 0.0, 0.35], [0.9, 0.05, 0.0, 0.05], [0.1, 0.1, 0.5, 0.3]])
    assert [labels[j] for j in median_choice(proba, labels)] == ["high", "critical", "low"]
    assert decide(proba, labels, "argmax").tolist() == [0, 0, 2]
    assert median_choice(proba[:, :2], ["housing", "food"]).tolist() == [0, 0, 0]


def test_cue_levels_one_column_per_level() -> None:
    lexicon = CueLexicon.load()
    got = cue_levels(lexicon, ["Bonjour, une question sur mes heures.", "je suis sans-abri"])
    assert got.shape == (2, 2) and got.dtype == np.float32
    assert got[0].tolist() == [0.0, 0.0] and got[1].sum() >= 1.0
