"""Router settings: Kafka + HTTP + PostgreSQL pieces plus the router's own.

Built in ``main`` (never at import). Every variable is prefixed ``TRIAGE_``;
the intake API keys (``TRIAGE_INGEST_API_KEYS``, ``..._FILE``) are the same
``IntakeKeySettings`` ingest reads, so one Secret serves both services.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.router.letters.settings import LetterSettings
from services.router.related_settings import RelatedSettings
from services.router.sla import parse_closed_day
from services.router.web.settings import WebSettings
from shared.settings import DatabaseSettings, HttpSettings, IntakeKeySettings, KafkaSettings

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")


class QueueCapacity(BaseModel):
    """What a queue's team can handle in a day: agents x items per agent per day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: float = Field(gt=0, description="agents working the queue (full-time equivalents)")
    items_per_day: float = Field(gt=0, description="items one agent completes in a day")

    @property
    def per_day(self) -> float:
        return self.agents * self.items_per_day


class RouterSettings(
    KafkaSettings,
    HttpSettings,
    DatabaseSettings,
    IntakeKeySettings,
    WebSettings,
    LetterSettings,
    RelatedSettings,
):
    port: int = Field(8003, ge=0, le=65535, description="HTTP listen port")

    router_rules: Path = Field(DEFAULT_RULES, description="routing rules YAML file")
    router_closed_days: list[str] = Field(
        default_factory=list,
        description="closing days of the administration, on top of the rules' and the Belgian "
        'public holidays, for SLA due dates: JSON list of "YYYY-MM-DD" (once) or "MM-DD" (yearly)',
    )
    router_group: str = Field("triage-router", description="consumer group of request.classified")
    router_consumer_enabled: bool = Field(
        True, description="consume events (off: an API-only replica)"
    )
    router_track_received: bool = Field(
        True, description="also record request.received events, for the 'received' status"
    )
    router_batch_max: int = Field(200, ge=1, le=5000, description="records per consumed batch")
    router_batch_timeout_ms: int = Field(
        10, ge=1, description="wait to fill a batch (also the pause after an empty poll)"
    )
    router_lease_s: int = Field(1800, ge=10, description="claim lease; a heartbeat renews it")
    router_retention_days: int = Field(
        365, ge=1, description="default age (days) for `triage purge` of completed items"
    )
    router_metrics_refresh_s: float = Field(15.0, gt=0, description="queue gauge refresh period")
    router_page_max: int = Field(200, ge=1, description="largest page of GET .../items")

    # Identities. JSON {"alice": {"token_sha256": "sha256:..", "queues": ["*"], "role": "lead"}}
    router_users: dict[str, dict[str, object]] = Field(
        default_factory=dict,
        description='JSON {"user": {"token_sha256": "sha256:..", "queues": ["*"], "role": "lead"}}',
    )
    router_users_file: Path | None = Field(
        default=None, description="YAML file with the same mapping"
    )
    router_trust_proxy_header: bool = Field(
        False, description="accept the user name from a trusted auth proxy's header"
    )
    router_proxy_header: str = Field("X-Auth-User", description="header the auth proxy sets")
    router_trusted_proxies: list[str] = Field(
        default_factory=list, description="proxy addresses/CIDRs allowed to set the header"
    )
    router_api_per_minute: float = Field(
        1200.0,
        ge=0,
        description="API requests per minute per user or intake source, after a burst "
        "(0: no limit); beyond it 429 with Retry-After",
    )
    router_api_burst: int = Field(
        300, ge=1, description="API requests a user or source may make at once"
    )

    @field_validator("router_closed_days")
    @classmethod
    def _valid_closed_days(cls, days: list[str]) -> list[str]:
        for day in days:
            parse_closed_day(day)  # ValueError names the bad entry
        return days

    # Demand forecast (issue 17)
    router_forecast_days: int = Field(
        14, ge=1, le=60, description="days ahead the demand forecast covers"
    )
    router_kpi_refresh_s: float = Field(
        60.0, gt=0, description="period of the KPI rollup refresh: how far KPIs may lag the items"
    )
    router_queue_capacity: dict[str, QueueCapacity] = Field(
        default_factory=dict,
        description='JSON {"queue": {"agents": 3, "items_per_day": 25}}: forecast capacity alert',
    )
