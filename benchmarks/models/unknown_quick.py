"""Unknown type on CLINC150 with one fixed recipe, from cached embeddings (minutes).

    python -m benchmarks.models.unknown_quick [--mode embedding] [--c 10]

The full ``make eval-benchmarks`` chooses the recipe per head first, which takes
long on a loaded 2-core machine; this runs the same unknown-type rule with one
fixed recipe: heads fitted on 80% of ``clinc150_train``, the rule calibrated on
the other 20% (rows of known types), scored on ``clinc150_val``. It reads the
vectors ``make eval-benchmarks`` cached (int8 e5) and never embeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.models import heads as bh
from benchmarks.models.heads import subset
from services.classifier.model.features import HeadRecipe, ModelConfig
from services.classifier.model.gate import UnknownRule
from services.classifier.settings import ModelPaths
from services.classifier.training.data import load_cases
from services.classifier.training.heads import fit_heads
from services.classifier.training.recipes import Rows
from services.classifier.training.trainer import mask_texts, stratified_split
from services.classifier.training.unknown import unknown_labels

REPO = Path(__file__).resolve().parents[2]


def _vectors(cache: Path, stem: str) -> np.ndarray:
    found = sorted(cache.glob(f"{stem}-sentence-transformers-onnx-*.npy"))
    if not found:
        raise SystemExit(f"no cached vectors for {stem} in {cache}: run make eval-benchmarks")
    return np.load(found[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="unknown_quick", description=__doc__)
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--mode", default="embedding", choices=("embedding", "tfidf", "concat"))
    p.add_argument("--c", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cache = ModelPaths().cache_dir / "embeddings"
    train = load_cases(args.datasets / "clinc150_train.csv", min_examples=None)
    test = load_cases(args.datasets / "clinc150_val.csv", min_examples=None)
    emb, test_emb = _vectors(cache, "clinc150_train"), _vectors(cache, "clinc150_val")
    texts = mask_texts(train.texts) if args.mode != "embedding" else train.texts
    tr, va = stratified_split(train.types, 0.2, args.seed)
    config = ModelConfig(heads={"type": HeadRecipe(args.mode, args.c)})  # type: ignore[arg-type]
    part = subset(train, tr)
    heads = fit_heads(config, [texts[i] for i in tr], emb[tr], part.types, None, args.seed)
    rows = Rows(texts, emb, {"type": train.types}, None, tr, va)
    rules = bh.calibrated_rules(heads, rows)
    test_texts = mask_texts(test.texts) if args.mode != "embedding" else test.texts
    proba, _ = heads.predict_proba(test_texts, test_emb)
    classes = [str(c) for c in heads.type_head.classes_]
    out = {
        f"{rate:g}": bh.unknown_scores(test.types, proba, classes, r) for rate, r in rules.items()
    }
    explicit = UnknownRule(0.0, unknown_labels(classes))
    out["oos_label_only"] = bh.unknown_scores(test.types, proba, classes, explicit)
    out["thresholds"] = {f"{rate:g}": r.threshold for rate, r in rules.items()}  # type: ignore[dict-item]
    print(json.dumps({"recipe": config.recipe("type").name, **out}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
