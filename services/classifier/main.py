"""`triage classifier`: build the settings, load the model in the lifespan, consume."""

from __future__ import annotations

from services.classifier.app import create_app
from services.classifier.settings import ClassifierSettings
from shared.serve import http_args, overrides, run


def main(argv: list[str] | None = None) -> int:
    parser = http_args("triage classifier", "Run the classifier consumer (and its /metrics).")
    args = parser.parse_args(argv)
    return run(
        "classifier",
        lambda: ClassifierSettings(**overrides(args)),  # type: ignore[arg-type]
        create_app,
    )
