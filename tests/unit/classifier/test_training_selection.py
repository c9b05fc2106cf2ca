"""Recipe choice per head: cross-validation ranking, the held-out guard, serving it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.classifier.model.features import FeatureConfig, HeadRecipe, ModelConfig
from services.classifier.model.predictor import TriageModel
from services.classifier.training.data import load_cases
from services.classifier.training.fitting import fit_features
from services.classifier.training.recipes import guard
from services.classifier.training.selection import (
    Trial,
    best_trial,
    paired_noise,
    sample_rows,
    select_head,
)
from services.classifier.training.trainer import TrainOptions, mask_texts, train_model
from testing.hashing import HashingEmbedder
from testing.synthetic import make_rows, write_csv


def _trial(mode: str, *folds: float) -> Trial:
    return Trial(HeadRecipe(mode, 10.0), tuple(folds))  # type: ignore[arg-type]


def test_best_trial_prefers_the_first_listed_on_ties() -> None:
    trials = [_trial("tfidf", 0.8, 0.8), _trial("concat", 0.8, 0.8), _trial("embedding", 0.7, 0.7)]
    assert best_trial(trials).recipe.mode == "tfidf"
    assert best_trial(trials, "embedding").recipe.mode == "embedding"


def test_noise_is_the_fold_std_of_the_paired_difference() -> None:
    a, b = _trial("concat", 0.9, 0.8, 0.85), _trial("tfidf", 0.85, 0.8, 0.8)
    assert paired_noise(a, b) == pytest.approx(np.std([0.05, 0.0, 0.05], ddof=1))
    assert paired_noise(_trial("concat", 0.9), _trial("tfidf", 0.8)) == 0.0


def test_guard_falls_back_only_beyond_noise() -> None:
    assert guard(chosen=0.80, baseline=0.82, noise=0.03)
    assert not guard(chosen=0.78, baseline=0.82, noise=0.03)
    assert guard(chosen=0.9, baseline=0.8, noise=0.0)


def test_sample_rows_is_stratified_and_bounded() -> None:
    labels = ["a"] * 900 + ["b"] * 100
    rows = sample_rows(labels, 200, seed=0)
    assert len(rows) == 200 and sorted(rows.tolist()) == rows.tolist()
    assert sum(labels[i] == "b" for i in rows) == 20
    assert len(sample_rows(labels, 5000, seed=0)) == 1000


def test_select_head_ranks_every_recipe() -> None:
    rows = make_rows(90)
    texts = mask_texts([r["text"] for r in rows])
    emb = HashingEmbedder(32).encode(texts)
    cues = np.zeros((len(rows), 2), dtype=np.float32)
    urgencies = [r["urgency"] for r in rows]
    found = select_head("urgency", texts, emb, urgencies, seed=0, cues=cues)
    assert found is not None
    report = found.report()
    # 3 modes x 3 C and the best with cues, each decided by argmax and by the ordinal median.
    assert len(report["table"]) == (3 * 3 + 1) * 2
    assert found.baseline.mode == "tfidf" and report["folds"] == 3
    means = [row["macro_f1"] for row in report["table"]]
    assert means == sorted(means, reverse=True)
    assert select_head("type", texts, emb, ["a"] + ["b"] * 89, seed=0) is None


def test_per_head_inputs_share_one_space() -> None:
    emb = HashingEmbedder(16).encode(["rent landlord", "food parcel"] * 10)
    space, _ = fit_features(FeatureConfig(), ["rent landlord", "food parcel"] * 10, emb)
    recipes = [HeadRecipe("embedding"), HeadRecipe("tfidf", cues=True)]
    cues = np.ones((2, 2), dtype=np.float32)
    x_type, x_urgency = space.head_inputs(["rent", "food"], emb[:2], recipes, cues)
    assert x_type.shape == (2, 16)
    assert space.tfidf is not None
    assert x_urgency.shape[1] == space.tfidf.transform(["x"]).shape[1] + 2


def test_model_config_without_heads_reads_the_shared_recipe() -> None:
    config = ModelConfig.from_dict(ModelConfig().to_dict())
    assert "heads" not in ModelConfig().to_dict()
    assert config.recipe("urgency") == HeadRecipe("concat", 10.0)
    chosen = ModelConfig(heads={"type": HeadRecipe("tfidf", 1.0, decision="argmax")})
    assert ModelConfig.from_dict(chosen.to_dict()) == chosen


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chosen")
    cases = load_cases(write_csv(root / "cases.csv", 150))
    train_model(cases, HashingEmbedder(64), root / "m", TrainOptions(show_progress=False))
    return root / "m"


def test_training_records_the_comparison_and_serves_the_choice(chosen: Path) -> None:
    manifest = json.loads((chosen / "manifest.json").read_text())
    heads = manifest["config"]["heads"]
    assert set(heads) == {"type", "urgency"}
    report = manifest["selection"]
    assert set(report["heads"]) == {"type", "urgency"} and report["seconds"] > 0
    for head in ("type", "urgency"):
        table = report["heads"][head]["table"]
        assert (
            table[0]["recipe"] == report["heads"][head]["best"] or "guard" in report["heads"][head]
        )
    model = TriageModel.load(chosen, HashingEmbedder(64))
    predictions = model.predict(["rent landlord lease today", "colis repas information"])
    assert [p.type for p in predictions] == ["housing", "food_aid"]
    assert all(p.urgency in manifest["labels"]["urgency"] for p in predictions)


def test_a_head_with_cue_features_and_ordinal_decision_serves(tmp_path: Path) -> None:
    cases = load_cases(write_csv(tmp_path / "cases.csv", 120))
    recipe = HeadRecipe("tfidf", 10.0, cues=True, decision="ordinal")
    config = ModelConfig(heads={"type": HeadRecipe("embedding", 10.0), "urgency": recipe})
    options = TrainOptions(config=config, select=False, show_progress=False, refit_full=False)
    manifest = train_model(cases, HashingEmbedder(64), tmp_path / "m", options)
    assert manifest["config"]["heads"]["urgency"]["cues"] is True
    model = TriageModel.load(tmp_path / "m", HashingEmbedder(64))
    assert model.urgency_recipe == recipe
    assert model.predict(["rent landlord aujourd'hui, je suis sans-abri"])[0].urgency
