"""``python -m benchmarks.e2e.depth_cut``: what fewer encoder layers would buy (speed only).

Issue 18 asks for a ceiling 5x the float reference. On a CPU without int8
dot-product instructions the served int8 build runs at about 2x, with threads
and padding already used up, so the one lever left is compute: this cuts the
served int8 graph after the first N of its 12 layers (the output of layer N's
last SkipLayerNormalization becomes ``last_hidden_state``) and times each cut
against the reference in the same run, like ``embedder_speed``. No heads are
trained on the cut vectors: this bounds the speed a shallower encoder could
reach, not its quality.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.e2e.embedder_speed import bench_texts, timed_encode
from benchmarks.e2e.reference import measure_reference

log = logging.getLogger("benchmarks.e2e.depth_cut")
LAYERS = 12
OUTPUT = "last_hidden_state"


def layer_output(layer: int) -> str:
    """The fused graph's tensor after ``layer`` (two SkipLayerNorms per layer)."""
    return f"/LayerNorm_{2 * layer - 1}/LayerNormalization_output_0"


def cut_graph(source: Path, target: Path, layers: int) -> None:
    """Write ``source`` without the nodes after ``layers`` layers to ``target``."""
    import onnx

    model = onnx.load(str(source))
    graph = model.graph
    tensor = layer_output(layers)
    needed, kept = {tensor}, []
    for node in reversed(list(graph.node)):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    if not kept:
        raise ValueError(f"{source}: no tensor {tensor} (not a fused int8 e5 build?)")
    kept.reverse()
    for node in kept:
        node.output[:] = [OUTPUT if out == tensor else out for out in node.output]
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input}
    initializers = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.save(model, str(target))


def cut_folder(served: Path, work: Path, layers: int) -> Path:
    """A copy of the served build folder whose ONNX file stops after ``layers``."""
    if layers == LAYERS:
        return served
    from services.classifier.embedding import checksums

    manifest = checksums.read_manifest(served)
    if manifest is None or "onnx_file" not in manifest:
        raise ValueError(f"{served} is not an int8 ONNX build; run `make embedder`")
    folder = work / f"layers-{layers}"
    shutil.copytree(served, folder)
    name = str(manifest["onnx_file"])
    cut_graph(served / name, folder / name, layers)
    return folder


def run(layer_counts: list[int], n: int) -> dict[str, Any]:
    from services.classifier.embedding import formats
    from services.classifier.embedding.onnx_embedder import OnnxEmbedder
    from services.classifier.settings import ModelPaths

    served = formats.onnx_dir(ModelPaths().models_dir)
    texts = bench_texts(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for layers in layer_counts:
            reference = measure_reference(texts)
            embedder = OnnxEmbedder(cut_folder(served, Path(tmp), layers))
            seconds, _ = timed_encode(embedder, texts)
            rate = len(texts) / seconds
            row = {
                "layers": layers,
                "texts_per_s": round(rate, 1),
                "reference_texts_per_s": round(reference.texts_per_s, 1),
                "ratio_to_reference": round(rate / reference.texts_per_s, 2),
            }
            log.info("%s", row)
            rows.append(row)
    return {"texts": n, "load_average_1m": round(os.getloadavg()[0], 2), "cuts": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.e2e.depth_cut", description=__doc__)
    p.add_argument("--texts", type=int, default=1000)
    p.add_argument("--layers", default="12,8,6", help="comma-separated layer counts (1-12)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s depth: %(message)s")
    counts = [int(x) for x in args.layers.split(",") if x]
    if any(not 1 <= c <= LAYERS for c in counts):
        p.error(f"layer counts must be between 1 and {LAYERS}")
    print(json.dumps(run(counts, args.texts), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
