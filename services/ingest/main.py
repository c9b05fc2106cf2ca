"""`triage ingest`: build the settings, then serve the ingest API."""

from __future__ import annotations

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.serve import http_args, overrides, serve


def main(argv: list[str] | None = None) -> int:
    args = http_args("triage ingest", "Run the ingest HTTP service.").parse_args(argv)
    settings = IngestSettings(**overrides(args))  # type: ignore[arg-type]
    # ingest never reads the client's address: no X-Forwarded-For handling needed
    return serve(create_app(settings), settings, "ingest", proxy_headers=False)
