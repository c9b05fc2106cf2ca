"""Run an ASGI app with uvicorn: graceful drain on SIGTERM, our logging, no access log."""

from __future__ import annotations

import argparse
import logging

from fastapi import FastAPI

from shared.logs import setup_logging
from shared.settings import HttpSettings

log = logging.getLogger(__name__)


def http_args(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", help="listen address (TRIAGE_HOST)")
    parser.add_argument("--port", type=int, help="listen port (TRIAGE_PORT)")
    return parser


def overrides(args: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}


def serve(app: FastAPI, settings: HttpSettings, service: str) -> int:
    import uvicorn

    setup_logging(settings.log_level, settings.log_format, service)
    log.info("%s listening on http://%s:%d", service, settings.host, settings.port)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
        lifespan="on",
    )
    return 0
