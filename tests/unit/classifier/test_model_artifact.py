"""Model artifact: round trip, checksum refusal, embedder-spec refusal, prediction shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from services.classifier.model import artifact as art
from services.classifier.model.gate import (
    REASON_CLOSE_CALL,
    REASON_LOW_CONFIDENCE,
    REASON_UNKNOWN_TYPE,
    UnknownRule,
)
from services.classifier.model.predictor import (
    TriageModel,
)
from services.classifier.training.data import load_cases
from services.classifier.training.trainer import TrainOptions, mask_texts, train_model
from testing.hashing import HashingEmbedder
from testing.synthetic import write_csv


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("model")
    cases = load_cases(write_csv(root / "cases.csv", 120))
    # No refit on all rows: half the fitting time; the CLI integration test covers refit.
    # select=False: the layout of the default recipe (TF-IDF + embeddings, both heads).
    options = TrainOptions(show_progress=False, refit_full=False, select=False)
    train_model(cases, HashingEmbedder(64), root / "m", options)
    return root / "m"


@pytest.fixture
def copy(trained: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "m"))


def test_manifest_is_self_describing(trained: Path) -> None:
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["model_version"].startswith("m-")
    assert manifest["labels"]["type"] == ["energy_aid", "food_aid", "housing"]
    assert manifest["labels"]["urgency"] == ["critical", "high", "low", "normal"]
    assert manifest["embedder"]["backend"] == "hashing"
    assert len(manifest["training"]["sha256"]) == 64
    assert {"scikit-learn", "numpy", "skops"} <= set(manifest["libraries"])
    assert manifest["created_at"]
    val = manifest["metrics"]["validation"]
    assert {"accuracy", "macro_f1", "per_class", "ece"} <= set(val["type"])
    assert "urgency" in val and set(val["per_language"]) == {"fr", "nl", "en"}
    gate = manifest["gate"]
    assert set(gate["type_thresholds"]) == set(manifest["labels"]["type"])
    assert all(0.0 <= t <= 1.0 for t in gate["type_thresholds"].values())
    assert 0.0 < gate["margin"] <= 0.3
    assert set(manifest["files"]) == {
        art.TFIDF_FILE,
        art.TYPE_FILE,
        art.URGENCY_FILE,
        art.NEIGHBOURS_FILE,
        art.FEATURES_FILE,
    }


def test_artifact_holds_no_text(trained: Path) -> None:
    with np.load(trained / art.NEIGHBOURS_FILE, allow_pickle=False) as data:
        assert set(data.files) == {"embeddings", "ids", "types", "urgencies"}
        assert data["embeddings"].dtype == np.float16
        assert data["ids"][0] == "case-0000"


def test_round_trip_predicts_like_before(trained: Path) -> None:
    first = TriageModel.load(trained, HashingEmbedder(64))
    second = TriageModel.load(trained, HashingEmbedder(64))
    texts = mask_texts(["ma facture d'électricité et le compteur de gaz aujourd'hui"])
    a, b = first.predict(texts)[0], second.predict(texts)[0]
    assert a == b
    assert a.type == "energy_aid"
    assert (
        first.model_version == json.loads((trained / "manifest.json").read_text())["model_version"]
    )
    assert first.embedder_spec == HashingEmbedder(64).spec


def test_predict_output_shape(trained: Path) -> None:
    model = TriageModel.load(trained, HashingEmbedder(64))
    texts = ["rent landlord lease soon", "huur huisbaas woning", "colis repas manger", "x"]
    predictions = model.predict(texts)
    assert len(predictions) == len(texts)
    for p in predictions:
        assert len(p.top_types) == 3 and len(p.top_urgencies) == 3
        assert p.type == p.top_types[0].label and p.urgency == p.top_urgencies[0].label
        assert p.top_types[0].probability >= p.top_types[1].probability
        assert sum(s.probability for s in p.top_types) <= 1.0 + 1e-6
        assert len(p.neighbours) == 3
        sims = [n.similarity for n in p.neighbours]
        assert sims == sorted(sims, reverse=True) and -1.0 <= sims[-1] <= 1.0 + 1e-3
        assert set(p.review_reasons) <= {
            REASON_LOW_CONFIDENCE,
            REASON_CLOSE_CALL,
            REASON_UNKNOWN_TYPE,
        }
        assert p.needs_review == bool(p.review_reasons)
    assert predictions[0].neighbours[0].type == "housing"
    assert model.predict([]) == []
    assert json.dumps(predictions[0].to_dict())


def test_gate_flags_low_confidence(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    model = TriageModel.load(copy, HashingEmbedder(64))
    model._thresholds[:] = 1.01  # every prediction is below its class threshold
    model.margin_threshold = 0.0
    model.unknown = UnknownRule()
    p = model.predict(["rent landlord"])[0]
    assert p.needs_review and p.review_reasons == [REASON_LOW_CONFIDENCE]
    assert manifest["gate"]["target_precision"] == 0.9


def test_checksum_mismatch_is_refused(copy: Path) -> None:
    with (copy / art.TYPE_FILE).open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(art.ArtifactError, match=r"type_head.skops: checksum mismatch"):
        TriageModel.load(copy, HashingEmbedder(64))


def test_missing_file_is_refused(copy: Path) -> None:
    (copy / art.NEIGHBOURS_FILE).unlink()
    with pytest.raises(art.ArtifactError, match="missing"):
        TriageModel.load(copy, HashingEmbedder(64))


def test_edited_manifest_is_refused(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["gate"]["type_thresholds"]["housing"] = 0.0
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(art.ArtifactError, match="model_version does not match"):
        TriageModel.load(copy, HashingEmbedder(64))


def test_other_embedder_is_refused(trained: Path) -> None:
    with pytest.raises(art.ArtifactError, match=r"trained with embedder hashing/hashing-64"):
        TriageModel.load(trained, HashingEmbedder(128))


def test_not_a_model_directory(tmp_path: Path) -> None:
    with pytest.raises(art.ArtifactError, match=r"no manifest\.json"):
        TriageModel.load(tmp_path, HashingEmbedder(64))


def test_untrusted_skops_type_is_refused(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(art, "TRUSTED_TYPES", ())
    with pytest.raises(art.ArtifactError, match="untrusted types"):
        art.load_artifact(copy)


def test_unknown_type_sends_to_review(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["gate"]["unknown"]["rate"] == 0.05
    model = TriageModel.load(copy, HashingEmbedder(64))
    model._thresholds[:] = 0.0
    model.margin_threshold = 0.0
    model.unknown = UnknownRule(threshold=1.01)  # every top probability is below it
    p = model.predict(["rent landlord"])[0]
    assert p.needs_review and p.review_reasons == [REASON_UNKNOWN_TYPE]
    model.unknown = UnknownRule(labels=(p.type,))  # the type itself means "none of them"
    assert model.predict(["rent landlord"])[0].review_reasons == [REASON_UNKNOWN_TYPE]


def test_artifact_without_unknown_rule_or_recipes_still_loads(copy: Path) -> None:
    """A model trained before the unknown-type rule and per-head recipes."""
    path = copy / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["gate"]["unknown"]
    manifest["config"].pop("heads", None)
    manifest["model_version"] = art._version_of(manifest)
    path.write_text(json.dumps(manifest))
    model = TriageModel.load(copy, HashingEmbedder(64))
    assert model.unknown == UnknownRule()
    p = model.predict(["rent landlord lease soon"])[0]
    assert REASON_UNKNOWN_TYPE not in p.review_reasons and p.urgency is not None
