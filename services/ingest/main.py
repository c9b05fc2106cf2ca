"""`triage ingest`: build the settings, then serve the ingest API."""

from __future__ import annotations

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.serve import http_args, overrides, run


def main(argv: list[str] | None = None) -> int:
    args = http_args("triage ingest", "Run the ingest HTTP service.").parse_args(argv)
    # ingest never reads the client's address: no X-Forwarded-For handling needed
    return run(
        "ingest",
        lambda: IngestSettings(**overrides(args)),  # type: ignore[arg-type]
        create_app,
        proxy_headers=False,
    )
