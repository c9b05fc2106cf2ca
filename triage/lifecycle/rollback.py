"""``triage rollback``: give the service back to the version the active one replaced
(audited in ``model_events``; the classifiers switch without a restart)."""

from __future__ import annotations

import argparse

from triage.lifecycle import common
from triage.lifecycle.registry import Registry


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage rollback", description=__doc__)
    common.add_actor(p)
    return p


async def rollback(args: argparse.Namespace, reg: Registry) -> int:
    actor = common.actor_of(args.by)
    left, restored = await reg.rollback(actor)
    print(f"rolled back: {restored} is active again (was {left}), by {actor}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = common.load_settings()

    async def action() -> int:
        return await common.with_registry(settings, lambda reg: rollback(args, reg))

    return common.run("triage rollback", action)
