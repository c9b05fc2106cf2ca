"""Export the converted e5 BertModel to ONNX and quantise it to int8 (offline).

Why not ``optimum`` (what sentence-transformers' ``backend="onnx"`` and
``export_dynamic_quantized_onnx_model`` use): its only release on PyPI
(optimum-onnx 0.1.0) requires transformers < 4.58 and fails to import with
transformers 5. So the graph is exported with ``torch.onnx`` from a plain
re-statement of BERT's forward pass (the classic pattern that onnxruntime's
tools know; transformers 5's own mask helpers do not trace correctly) and
quantised with ``onnxruntime.quantization.quantize_dynamic`` -- the same
quantiser optimum drives, with the same settings as its presets.

Both steps are deterministic for fixed library versions (same input, same
bytes); the build manifest records the versions and every file's checksum.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "last_hidden_state"


@dataclass(frozen=True)
class QuantPreset:
    """Dynamic int8 quantisation settings (weights per output channel, symmetric).

    ``reduce_range`` keeps weights to 7 bits: on AVX2 CPUs without VNNI the
    u8 x s8 kernel (VPMADDUBSW) saturates with 8-bit weights, so full-range
    s8 weights give different, worse embeddings there than on the build machine.
    """

    name: str
    signed_weights: bool
    reduce_range: bool
    summary: str

    @property
    def file_name(self) -> str:
        """sentence-transformers' naming: ``onnx/model_<weights dtype>_<preset>.onnx``."""
        dtype = "qint8" if self.signed_weights else "quint8"
        return f"onnx/model_{dtype}_{self.name}.onnx"

    def to_dict(self) -> dict[str, object]:
        return {
            "preset": self.name,
            "mode": "dynamic",
            "weights": "int8" if self.signed_weights else "uint8",
            "activations": "uint8 (asymmetric)",
            "per_channel": True,
            "weights_symmetric": True,
            "reduce_range": self.reduce_range,
        }


PRESETS = {
    preset.name: preset
    for preset in (
        QuantPreset(
            "portable",
            signed_weights=True,
            reduce_range=True,
            summary="exact integer maths on any x86-64 (AVX2 or newer) and arm64 CPU",
        ),
        QuantPreset(
            "vnni",
            signed_weights=True,
            reduce_range=False,
            summary="8-bit weights: only for CPUs with AVX512-VNNI/AVX-VNNI or arm64",
        ),
        QuantPreset(
            "avx2",
            signed_weights=False,
            reduce_range=False,
            summary="optimum's 'avx2' preset (uint8 weights): exact everywhere, ~40% slower",
        ),
    )
}


def _export_module(bert: Any) -> Any:
    """A torch module computing BertModel's last_hidden_state from ids + mask."""
    import torch

    config = bert.config
    heads = int(config.num_attention_heads)
    head_dim = int(config.hidden_size) // heads

    class ExportableBert(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        @staticmethod
        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view((*x.size()[:-1], heads, head_dim)).permute(0, 2, 1, 3)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert.embeddings(input_ids=input_ids)
            # -10000 rather than -inf: a padded key gets weight exp(-1e4) == 0 in
            # float32, and a row can never be all -inf (it always has <s>).
            mask = attention_mask.unsqueeze(1).unsqueeze(2).to(hidden.dtype)
            additive = (1.0 - mask) * -10000.0
            for layer in self.bert.encoder.layer:
                att = layer.attention
                q = self.split(att.self.query(hidden))
                k = self.split(att.self.key(hidden))
                v = self.split(att.self.value(hidden))
                scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim) + additive
                ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
                ctx = ctx.contiguous().view((*ctx.size()[:-2], heads * head_dim))
                hidden = att.output.LayerNorm(att.output.dense(ctx) + hidden)
                inner = torch.nn.functional.gelu(layer.intermediate.dense(hidden))
                hidden = layer.output.LayerNorm(layer.output.dense(inner) + hidden)
            return hidden

    return ExportableBert().eval()


def _load_bert(folder: Path) -> Any:
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(
        str(folder), dtype=torch.float32, add_pooling_layer=False, local_files_only=True
    )
    config = model.config
    if config.position_embedding_type != "absolute" or config.is_decoder:
        raise ValueError(f"{folder}: only absolute-position BERT encoders can be exported")
    if config.hidden_act != "gelu":  # the export module hard-codes erf GELU
        raise ValueError(f"{folder}: activation {config.hidden_act!r} is not supported")
    return model.eval()


def export_fp32(folder: Path, out: Path) -> None:
    """Write the float32 ONNX graph of the BertModel in ``folder`` to ``out``."""
    import torch

    bert = _load_bert(folder)
    module = _export_module(bert)
    # Small dummy batch with padding so that the mask path is traced as used.
    ids = torch.tensor([[0, 100, 200, 300, 2], [0, 101, 2, 1, 1]], dtype=torch.long)
    mask = (ids != 1).long()
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with torch.no_grad():
        torch.onnx.export(
            module,
            (ids, mask),
            str(out),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,  # the TorchScript exporter: deterministic, no onnxscript needed
        )


def fuse_transformer(fp32: Path, out: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """onnxruntime's BERT fusions on the float graph; returns how many of each were made.

    Attention (one kernel instead of Q/K/V MatMuls, transposes, softmax and the
    mask arithmetic), SkipLayerNormalization (residual add + LayerNorm),
    BiasGelu and EmbedLayerNormalization. Done before quantisation so that the
    quantiser sees the fused Attention (QAttention) rather than loose MatMuls.
    ``opt_level=0``: only these pattern fusions, no hardware-specific rewrite,
    so the file is the same on any build machine.
    """
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    with _quiet_root_logger():
        model = optimizer.optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=num_heads,
            hidden_size=hidden_size,
            optimization_options=FusionOptions("bert"),
            opt_level=0,
            use_gpu=False,
        )
    fused = {k: int(v) for k, v in model.get_fused_operator_statistics().items() if v}
    # Each layer's softmax disappears into its Attention node: one left means a layer
    # whose pattern was not recognised (a changed export), which would run unfused.
    unfused = sum(node.op_type == "Softmax" for node in model.model.graph.node)
    if unfused or not fused.get("Attention"):
        raise ValueError(f"attention fusion missed {unfused} layer(s): {fused}")
    model.save_model_to_file(str(out))
    return fused


def quantize(fp32: Path, out: Path, preset: QuantPreset) -> None:
    """Dynamic int8 quantisation of every MatMul and the embedding Gathers."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_root_logger():
        quantize_dynamic(
            str(fp32),
            str(out),
            per_channel=True,
            reduce_range=preset.reduce_range,
            weight_type=QuantType.QInt8 if preset.signed_weights else QuantType.QUInt8,
            extra_options={
                "WeightSymmetric": True,
                "ActivationSymmetric": False,
                "DefaultTensorType": TensorProto.FLOAT,
            },
        )


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantiser warns through the root logger that it wants a pre-processing
    pass (shape inference for vision models); it does not apply to this graph."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def tool_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for package in ("torch", "transformers", "onnx", "onnxruntime"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


def export_quantized(
    folder: Path, out: Path, preset: QuantPreset, workdir: Path, *, fuse: bool = True
) -> dict[str, int]:
    """fp32 export into ``workdir`` (deleted by the caller), fusions, then int8 into ``out``.

    Returns the fusions made (empty when ``fuse`` is False).
    """
    fp32 = workdir / "model_fp32.onnx"
    logger.info("exporting %s to ONNX", folder)
    export_fp32(folder, fp32)
    fused: dict[str, int] = {}
    if fuse:
        import json

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        logger.info("fusing attention, layer norms and GELU")
        optimised = workdir / "model_fp32_fused.onnx"
        heads, hidden = int(config["num_attention_heads"]), int(config["hidden_size"])
        fused = fuse_transformer(fp32, optimised, heads, hidden)
        fp32.unlink()
        fp32 = optimised
    logger.info("quantising to int8 (%s preset)", preset.name)
    quantize(fp32, out, preset)
    fp32.unlink()
    return fused
