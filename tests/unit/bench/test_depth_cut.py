"""The depth-cut tool keeps exactly the nodes up to the chosen layer."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from benchmarks.e2e.depth_cut import OUTPUT, cut_graph


def _chain(path: Path, layers: int) -> None:
    """x -> Identity per half-layer -> last_hidden_state, named like the fused e5 graph."""
    names = [f"/LayerNorm_{i}/LayerNormalization_output_0" for i in range(2 * layers - 1)]
    outputs = [*names, OUTPUT]
    nodes, previous = [], "x"
    for i, out in enumerate(outputs):
        nodes.append(helper.make_node("Identity", [previous], [out], name=f"n{i}"))
        previous = out
    value = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "chain",
        [value("x", TensorProto.FLOAT, [1])],
        [value(OUTPUT, TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph), str(path))


def test_cut_keeps_the_first_layers_and_renames_their_output(tmp_path: Path) -> None:
    _chain(tmp_path / "full.onnx", 3)
    cut_graph(tmp_path / "full.onnx", tmp_path / "cut.onnx", 2)
    cut = onnx.load(str(tmp_path / "cut.onnx"))
    onnx.checker.check_model(cut)
    assert [n.name for n in cut.graph.node] == ["n0", "n1", "n2", "n3"]
    assert cut.graph.node[-1].output[0] == OUTPUT


def test_cut_of_a_graph_without_the_layer_is_refused(tmp_path: Path) -> None:
    _chain(tmp_path / "full.onnx", 1)
    with pytest.raises(ValueError, match="not a fused int8 e5 build"):
        cut_graph(tmp_path / "full.onnx", tmp_path / "cut.onnx", 5)
