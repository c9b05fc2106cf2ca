"""``triage router``: the work-queue API and the request.classified consumer."""

from __future__ import annotations

from services.router.app import create_app
from services.router.settings import RouterSettings
from shared.serve import http_args, overrides, run


def main(argv: list[str] | None = None) -> int:
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

    def settings() -> RouterSettings:
        return RouterSettings(**extra)  # type: ignore[arg-type]

    # proxy_headers off: the trusted-proxy check needs the real peer address, which
    # uvicorn would otherwise replace by whatever X-Forwarded-For claims.
    return run("router", settings, create_app, proxy_headers=False)
