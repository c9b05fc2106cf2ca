"""End to end through the CLI entry functions: train, evaluate, default model, benchmarks.

Uses the hashing embedder (no weights, fast) on generated CSVs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks.models import run as benchmarks
from services.classifier.model.paths import resolve_default_model
from services.classifier.settings import ModelPaths
from services.classifier.training import default_model, evaluate_cli, train_cli
from testing.synthetic import write_csv

HASHING = ["--embedder", "hashing", "--embedder-path", "64"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train")
    data = write_csv(root / "cases.csv", 180, seed=1)
    out = root / "model"
    argv = ["--data", str(data), "--out", str(out), *HASHING, "--no-progress"]
    assert train_cli.main(argv) == 0
    return out


def test_train_writes_artifact_and_retrains_in_place(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["metrics"]["validation"]["type"]["accuracy"] >= 0.9
    target = Path(shutil.copytree(model, tmp_path / "again"))
    data = write_csv(tmp_path / "cases.csv", 90, seed=2)
    argv = ["--data", str(data), "--out", str(target), *HASHING, "--no-progress", "--seed", "3"]
    assert train_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "model m-" in printed and "urgency  recipe " in printed
    assert json.loads((target / "manifest.json").read_text())["training"]["rows"] == 90
    assert not list(tmp_path.glob(".again.*"))


def test_train_chooses_a_recipe_per_head_and_calibrates_unknown(model: Path) -> None:
    manifest = json.loads((model / "manifest.json").read_text())
    selection = manifest["selection"]["heads"]
    assert set(selection) == {"type", "urgency"}
    assert set(manifest["config"]["heads"]) == {"type", "urgency"}
    assert all(len(block["table"]) >= 9 for block in selection.values())
    unknown = manifest["gate"]["unknown"]
    assert unknown["rate"] == 0.05 and 0.0 < unknown["threshold"] < 1.0
    assert unknown["validation"]["in_scope_flagged"] <= 0.1


def test_train_refuses_a_bad_unknown_rate(tmp_path: Path) -> None:
    argv = ["--data", "x.csv", "--out", str(tmp_path / "m"), "--unknown-rate", "0.7"]
    assert train_cli.main(argv) == 2


def test_train_reports_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,a\n")
    assert train_cli.main(["--data", str(bad), "--out", str(tmp_path / "m"), *HASHING]) == 2
    assert "missing required column 'type'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_train_refuses_to_overwrite_a_non_model_dir(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "cases.csv", 60)
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    argv = ["--data", str(data), "--out", str(out), *HASHING, "--no-progress"]
    assert train_cli.main(argv) == 1
    assert (out / "precious.txt").read_text() == "keep me"


def _evaluate_json(model: Path, data: Path, out_json: Path, *extra: str) -> dict[str, Any]:
    """Run ``triage evaluate`` successfully and return the metrics it wrote."""
    argv = ["--model", str(model), "--data", str(data), "--json", str(out_json), *extra]
    assert evaluate_cli.main([*argv, "--no-progress"]) == 0
    result: dict[str, Any] = json.loads(out_json.read_text())
    return result


def test_evaluate_json_and_report(model: Path, tmp_path: Path) -> None:
    test_csv = write_csv(tmp_path / "test.csv", 60, seed=7)
    report = tmp_path / "report"
    result = _evaluate_json(model, test_csv, tmp_path / "metrics.json", "--report", str(report))
    for head in ("type", "urgency"):
        assert 0.0 <= result[head]["accuracy"] <= 1.0
        assert 0.0 <= result[head]["macro_f1"] <= 1.0
    assert set(result["type"]["per_class"]) == {"energy_aid", "food_aid", "housing"}
    assert result["type"]["accuracy"] >= 0.9
    assert set(result["per_language"]) == {"fr", "nl", "en"}
    assert set(result["per_language"]["fr"]) == {"rows", "type", "urgency"}
    assert {"review_rate", "accepted_accuracy"} <= set(result["gate"])
    for name in (
        "type_confusion.png",
        "type_reliability.png",
        "type_coverage.png",
        "type_coverage.json",
        "urgency_confusion.png",
        "metrics.json",
    ):
        assert (report / name).stat().st_size > 0
    assert (report / "type_confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_without_urgency_column(model: Path, tmp_path: Path) -> None:
    test_csv = tmp_path / "types_only.csv"
    test_csv.write_text("text,type\nrent landlord lease,housing\nfood parcel meal,food_aid\n")
    result = _evaluate_json(model, test_csv, tmp_path / "m.json")
    assert "urgency" not in result and result["per_language"] == {}


def test_evaluate_refuses_tampered_model(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = Path(shutil.copytree(model, tmp_path / "m"))
    (copy / "neighbours.npz").write_bytes(b"junk")
    test_csv = write_csv(tmp_path / "test.csv", 10)
    assert evaluate_cli.main(["--model", str(copy), "--data", str(test_csv)]) == 1
    assert "checksum mismatch" in capsys.readouterr().err


def test_default_model_builds_then_reuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_csv(corpus / "demo_a.csv", 90, seed=1)
    write_csv(corpus / "demo_b.csv", 90, seed=2)  # same ids as demo_a: prefixed on merge
    argv = ["--corpus", str(corpus), *HASHING, "--no-progress"]
    assert default_model.main(argv) == 0
    first = Path(capsys.readouterr().out.strip())
    assert first.name.startswith("default-") and (first / "manifest.json").is_file()
    assert resolve_default_model(ModelPaths().models_dir) == first
    created = (first / "manifest.json").stat().st_mtime_ns
    assert default_model.main(argv) == 0
    assert Path(capsys.readouterr().out.strip()) == first
    assert (first / "manifest.json").stat().st_mtime_ns == created  # reused, not retrained
    write_csv(corpus / "demo_a.csv", 95, seed=1)  # corpus changed: new key, new model
    assert default_model.main(argv) == 0
    second = Path(capsys.readouterr().out.strip())
    assert second != first and resolve_default_model(ModelPaths().models_dir) == second
    assert (tmp_path / "cache" / "models" / "default").resolve() == second.resolve()


def test_benchmarks_on_small_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    for name in ("banking77_train", "clinc150_train", "clinc150_val", "tickets_v4"):
        write_csv(datasets / f"{name}.csv", 90, seed=len(name))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_csv(corpus / "demo_a.csv", 120, seed=3)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other section\n\nkept\n")
    argv = ["--datasets", str(datasets), "--embedders", "hashing", "--docs", str(docs)]
    argv += ["--corpus", str(corpus)]
    assert benchmarks.main(argv) == 0
    text = docs.read_text()
    assert "## Other section\n\nkept" in text
    assert "| tickets_v4 | urgency |" in text and "tickets_v5" not in text
    assert "TF-IDF + hashing" in text
    assert "### Recipe chosen per head" in text and "| tickets_v4 | chosen (" in text
    assert "| now | critical " in text
    assert benchmarks.main(argv) == 0  # second run: cached embeddings, block replaced
    assert docs.read_text().count("BEGIN classifier-benchmarks") == 1
