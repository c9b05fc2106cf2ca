"""``triage router``: the work-queue API and the request.classified consumer."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from services.router.auth import AuthConfigError
from services.router.rules import RulesError
from shared.serve import http_args, overrides, serve


def main(argv: list[str] | None = None) -> int:
    from services.router.app import build_state, create_app
    from services.router.settings import RouterSettings

    parser = http_args("triage router", "Run the router: consumer, work queues, status API.")
    parser.add_argument(
        "--no-consumer",
        action="store_true",
        help="serve the API only (TRIAGE_ROUTER_CONSUMER_ENABLED=false)",
    )
    args = parser.parse_args(argv)
    extra = overrides(args)
    if args.no_consumer:
        extra["router_consumer_enabled"] = False
    try:
        settings = RouterSettings(**extra)  # type: ignore[arg-type]
        state = build_state(settings)
    except (ValidationError, RulesError, AuthConfigError) as exc:
        print(f"triage router: invalid configuration: {exc}", file=sys.stderr)
        return 2
    return serve(create_app(state), settings, "router")
