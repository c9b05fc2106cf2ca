"""``triage models``: the registry of model versions.

triage models list                       versions, states, held-out numbers, who promoted
triage models register DIR [--activate]  add a trained folder (e.g. the first model)
triage models shadow VERSION on|off      a candidate scores live traffic beside the active
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from services.classifier.model.artifact import read_manifest, verify
from services.classifier.model.store import check_version, version_dir
from triage.lifecycle import common
from triage.lifecycle.gate import Margins
from triage.lifecycle.registry import Registry


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage models", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="registered versions, newest first")
    listing.add_argument("--limit", type=int, default=20)
    register = sub.add_parser("register", help="add a trained model folder as a candidate")
    register.add_argument("folder", type=Path)
    register.add_argument("--activate", action="store_true", help="promote it (gate applies)")
    common.add_actor(register)
    shadow = sub.add_parser("shadow", help="score live traffic with a candidate, route nothing")
    shadow.add_argument("version", type=check_version)
    shadow.add_argument("state", choices=("on", "off"))
    common.add_actor(shadow)
    return p


def copy_into_store(folder: Path, store: Path) -> tuple[dict[str, Any], Path]:
    """Verify the artifact, then copy it (once) to its immutable version folder."""
    manifest = read_manifest(folder)
    verify(folder, manifest)
    target = version_dir(store, manifest["model_version"])
    if not target.exists():
        incoming = store / ".incoming-copy"
        shutil.rmtree(incoming, ignore_errors=True)
        shutil.copytree(folder, incoming)
        incoming.rename(target)
    return manifest, target


async def register(args: argparse.Namespace, reg: Registry, margins: Margins) -> int:
    manifest, target = copy_into_store(args.folder, reg.store)
    version, actor = manifest["model_version"], common.actor_of(args.by)
    metrics = {"validation": manifest.get("metrics", {}).get("validation", {}), "holdout": {}}
    new = await reg.register(manifest, target, metrics, None, actor, reevaluated=False)
    print(f"{'registered' if new else 'already registered'}: {version} ({target})")
    if args.activate:
        result = await reg.promote(version, actor, margins)
        if not result.done:
            print(f"not activated: {result.decision.describe()}")
            return 1
        print(f"active: {version}")
    return 0


def _holdout(metrics: dict[str, Any]) -> str:
    block = metrics.get("holdout") or {}
    candidate = block.get("candidate") or {}
    if not block.get("rows"):
        return "-"
    f1 = candidate.get("type_macro_f1")
    return f"{block['rows']} held out, type F1 {f1:.3f}" if f1 is not None else "-"


async def list_versions(args: argparse.Namespace, reg: Registry) -> int:
    for row in await reg.versions(args.limit):
        promoted = f"{row['promoted_by']} {row['promoted_at']:%Y-%m-%d %H:%M}" if row[
            "promoted_at"] else "-"  # fmt: skip
        flags = " forced" if row["forced"] else ""
        flags += " shadow" if row["shadow"] else ""
        print(f"{row['version']}  {row['state']:9s} {row['created_at']:%Y-%m-%d %H:%M}  "
              f"{_holdout(row['metrics'])}  promoted: {promoted}{flags}")  # fmt: skip
    return 0


async def shadow(args: argparse.Namespace, reg: Registry) -> int:
    await reg.set_shadow(args.version, args.state == "on", common.actor_of(args.by))
    print(f"shadow {args.state}: {args.version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = common.load_settings()
    margins = common.margins_of(settings)

    async def dispatch(reg: Registry) -> int:
        if args.action == "register":
            return await register(args, reg, margins)
        if args.action == "shadow":
            return await shadow(args, reg)
        return await list_versions(args, reg)

    async def action() -> int:
        return await common.with_registry(settings, dispatch)

    return common.run("triage models", action)
