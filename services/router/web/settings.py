"""Settings of the team-lead web page (``TRIAGE_WEB_*``): part of ``RouterSettings``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import BaseTriageSettings

Language = Literal["fr", "nl", "en"]


class WebSettings(BaseTriageSettings):
    web_session_secret: SecretStr | None = Field(
        None,
        description="key signing the page's session cookies; unset: a random key per "
        "process (sessions end at restart and do not cross replicas)",
    )
    web_session_hours: float = Field(
        10.0, gt=0, le=24 * 7, description="a page login lasts this long (one working day)"
    )
    web_cookie_secure: bool = Field(
        False, description="mark cookies Secure (always done when the request came over https)"
    )
    web_login_per_minute: float = Field(
        10.0,
        ge=0,
        description="page sign-in attempts per minute per client address, after a burst "
        "(0: no limit); beyond it 429 with Retry-After",
    )
    web_login_burst: int = Field(10, ge=1, description="sign-in attempts a client may make at once")
    web_forwarded_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (ingress) whose X-Forwarded-For names the client, for "
        "the sign-in limit; without them all sign-ins through the ingress share one limit",
    )
    web_default_language: Language = Field(
        "en", description="page language when the browser asks for none of fr, nl, en"
    )
    # uvicorn waits for open responses on shutdown: a live stream that ends on its own
    # (the browser reconnects at once) keeps shutdown shorter than the graceful timeout.
    web_stream_max_s: float = Field(
        15.0, gt=0, le=300, description="length of one live-update stream before it reconnects"
    )
