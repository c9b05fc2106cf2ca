"""``triage promote VERSION [--force]``: make a candidate the version every classifier
serves, if the promotion gate lets it.

The gate compares the candidate with the active model on the held-out human labels
of its ``triage retrain``; it refuses, with the numbers, when the candidate is worse
beyond the margins (``TRIAGE_PROMOTE_MAX_DROP_*``) on type macro-F1, urgency
macro-F1 or the recall of ``critical``. ``--force`` promotes anyway and is recorded.
Refusals and promotions are audited in ``model_events``.
"""

from __future__ import annotations

import argparse
import sys

from services.classifier.model.store import check_version
from triage.lifecycle import common
from triage.lifecycle.gate import Margins
from triage.lifecycle.registry import Registry


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage promote", description=__doc__.split("\n\n")[0])
    p.add_argument("version", type=check_version, help="the candidate's version (m-...)")
    p.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    common.add_actor(p)
    return p


async def promote(args: argparse.Namespace, reg: Registry, margins: Margins) -> int:
    actor = common.actor_of(args.by)
    result = await reg.promote(args.version, actor, margins, force=args.force)
    numbers = result.decision.describe()
    if not result.done:
        print(f"triage promote: refused: {args.version} is worse than {result.previous}:",
              file=sys.stderr)  # fmt: skip
        print("  " + numbers.replace("\n", "\n  "), file=sys.stderr)
        print("nothing changed; `--force` promotes anyway (recorded)", file=sys.stderr)
        return 1
    forced = " (FORCED past the gate)" if result.forced else ""
    print(f"promoted {args.version}{forced} by {actor}; previous: {result.previous or 'none'}")
    if numbers:
        print("  " + numbers.replace("\n", "\n  "))
    print("every classifier replica switches at its next check of the store")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = common.load_settings()
    margins = common.margins_of(settings)

    async def action() -> int:
        return await common.with_registry(settings, lambda reg: promote(args, reg, margins))

    return common.run("triage promote", action)
