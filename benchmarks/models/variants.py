"""Compare the e5 embedder variants on this machine: speed, memory, agreement.

    python -m benchmarks.models.variants [--repeats 2] [--json out.json]

Variants: ``fp32`` (sentence-transformers, every weight float32), ``fp16-lookup``
(the default sentence-transformers path: word-embedding table kept float16) and
``onnx-int8`` (the ONNX build through sentence-transformers). Text sets come
from the demo corpus (fake data; never printed): ``corpus`` = the first 100
rows of each language file, ``short`` = rows of 30-60 words, ``long`` = rows
joined into texts past the 512-token window. Each (variant, set, repeat) runs
in a fresh subprocess, so peak RSS is that of one embedder on one workload.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

MODULE = "benchmarks.models.variants"
VARIANTS = ("fp32", "fp16-lookup", "onnx-int8")
SETS = ("corpus", "short", "long")
LATENCY_TEXTS = 40
WARM_UP = ["Bonjour, quelles sont vos heures d'ouverture ?", "Waar is het loket?"]
# Same meaning in FR / NL / EN (no personal data): nearest neighbour must be a translation.
TRANSLATIONS = [
    (
        "Mon fournisseur a coupé l'électricité et le gaz hier, je n'ai plus de chauffage.",
        "Mijn leverancier heeft gisteren elektriciteit en gas afgesloten, ik heb geen verwarming.",
        "My supplier cut off the electricity and gas yesterday, I have no heating.",
    ),
    (
        "Mon propriétaire veut m'expulser à la fin du mois pour des arriérés de loyer.",
        "Mijn huisbaas wil me eind deze maand uit mijn woning zetten wegens huurachterstand.",
        "My landlord wants to evict me at the end of the month over rent arrears.",
    ),
    (
        "Je voudrais une copie de l'acte de naissance de ma fille pour son passeport.",
        "Ik wil een afschrift van de geboorteakte van mijn dochter voor haar paspoort.",
        "I would like a copy of my daughter's birth certificate for her passport.",
    ),
    (
        "Les poubelles de notre rue n'ont pas été ramassées depuis deux semaines.",
        "Het huisvuil in onze straat is al twee weken niet opgehaald.",
        "The rubbish in our street has not been collected for two weeks.",
    ),
    (
        "Nous n'avons plus rien à manger et les enfants ont faim, où trouver un colis ?",
        "We hebben niets meer te eten en de kinderen hebben honger, waar vind ik een pakket?",
        "We have nothing left to eat and the children are hungry, where can I get a parcel?",
    ),
    (
        "Quelles sont les heures d'ouverture du guichet le samedi ?",
        "Wat zijn de openingsuren van het loket op zaterdag?",
        "What are the opening hours of the counter on Saturday?",
    ),
    (
        "Mes dettes s'accumulent et un huissier m'a écrit, j'ai besoin d'une médiation de dettes.",
        "Mijn schulden stapelen zich op en een deurwaarder schreef me, ik wil schuldbemiddeling.",
        "My debts keep growing and a bailiff wrote to me, I need debt mediation.",
    ),
    (
        "Mon fils est en fauteuil roulant, nous cherchons de l'aide pour adapter la salle de bain.",
        "Mijn zoon zit in een rolstoel en we zoeken hulp om de badkamer aan te passen.",
        "My son uses a wheelchair and we are looking for help to adapt the bathroom.",
    ),
]


def corpus_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "services" / "classifier" / "data" / "corpus"


def _rows() -> dict[str, list[str]]:
    out = {}
    for path in sorted(corpus_dir().glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            out[path.stem] = [row["text"] for row in csv.DictReader(handle)]
    return out


def text_set(name: str) -> list[str]:
    rows = _rows()
    if name == "corpus":
        return [t for texts in rows.values() for t in texts[:100]]
    if name == "short":
        return [t for texts in rows.values() for t in texts if 30 <= len(t.split()) <= 60][:300]
    if name == "long":
        joined = []
        for texts in rows.values():
            current = ""
            for text in texts:
                current = f"{current}\n\n{text}" if current else text
                if len(current) > 3500:  # well past 512 tokens in any of the three languages
                    joined.append(current)
                    current = ""
        return joined[:64]
    raise ValueError(f"unknown text set {name!r}")


def load_variant(variant: str, threads: int, models_dir: Path) -> Any:
    from services.classifier.embedding.factory import load_embedder
    from services.classifier.embedding.formats import e5_dir
    from services.classifier.embedding.sentence_transformer import SentenceTransformerEmbedder

    if variant == "fp32":
        return SentenceTransformerEmbedder(e5_dir(models_dir), threads=threads, fp16_lookup=False)
    if variant == "fp16-lookup":
        return SentenceTransformerEmbedder(e5_dir(models_dir), threads=threads, fp16_lookup=True)
    if variant == "onnx-int8":
        return load_embedder("sentence-transformers-onnx", models_dir=models_dir, threads=threads)
    raise ValueError(f"unknown variant {variant!r}")


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_child(
    variant: str, set_name: str, threads: int, out_npy: Path, models_dir: Path
) -> dict[str, Any]:
    texts = text_set(set_name)
    started = time.perf_counter()
    embedder = load_variant(variant, threads, models_dir)
    embedder.encode(WARM_UP)  # the first call initialises kernels and pools
    loaded_rss = _rss_mb()
    result: dict[str, Any] = {"load_s": time.perf_counter() - started, "rss_loaded_mb": loaded_rss}
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.encode(texts, batch_size=64)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    np.save(out_npy, vectors)
    latencies = []
    for text in texts[:LATENCY_TEXTS]:
        t0 = time.perf_counter()
        embedder.encode([text], batch_size=1)
        latencies.append((time.perf_counter() - t0) * 1000)
    result.update(
        texts=len(texts),
        texts_per_s=len(texts) / wall,
        cpu_ms_per_text=cpu / len(texts) * 1000,
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p90_ms=float(np.percentile(latencies, 90)),
        rss_after_mb=_rss_mb(),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    if set_name == "corpus":
        result["cross_lingual"] = cross_lingual(embedder)
    return result


def cross_lingual(embedder: Any) -> dict[str, int]:
    texts = [t for group in TRANSLATIONS for t in group]
    topics = [i for i, group in enumerate(TRANSLATIONS) for _ in group]
    vectors = embedder.encode(texts)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    hits = sum(topics[int(np.argmax(row))] == topics[i] for i, row in enumerate(sims))
    return {"hits": int(hits), "total": len(texts)}


def _spawn(variant: str, set_name: str, threads: int, npy: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", MODULE, "--child", variant, set_name, str(threads), str(npy)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{variant}/{set_name} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def agreement(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    cos = np.sum(reference * other, axis=1)
    return {"cos_mean": float(cos.mean()), "cos_min": float(cos.min())}


def run_all(variants: list[str], sets: list[str], repeats: int, threads: int) -> dict[str, Any]:
    report: dict[str, Any] = {"runs": [], "agreement": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            for set_name in sets:
                for variant in variants:
                    npy = Path(tmp) / f"{variant}-{set_name}.npy"
                    result = _spawn(variant, set_name, threads, npy)
                    result.update(variant=variant, set=set_name, repeat=repeat + 1)
                    report["runs"].append(result)
                    print(json.dumps(result), file=sys.stderr, flush=True)
        if "fp32" in variants:
            for set_name in sets:
                ref = np.load(Path(tmp) / f"fp32-{set_name}.npy")
                for variant in variants:
                    if variant != "fp32":
                        other = np.load(Path(tmp) / f"{variant}-{set_name}.npy")
                        report["agreement"][f"{variant}/{set_name}"] = agreement(ref, other)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.models.variants", description=__doc__
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        variant, set_name, threads, npy = args.child
        from services.classifier.settings import ModelPaths

        models_dir = ModelPaths().models_dir
        print(json.dumps(run_child(variant, set_name, int(threads), Path(npy), models_dir)))
        return 0
    report = run_all(args.variants.split(","), args.sets.split(","), args.repeats, args.threads)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
