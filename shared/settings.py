"""pydantic-settings pieces. Each service composes its own class from these and
builds it in ``main`` (never at import). Every variable is prefixed ``TRIAGE_``.

These classes are the only readers of the environment in the services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import PREFIX
from shared.events import CLASSIFIED_V1, DEADLETTER_V1, DOCUMENTS_TOPIC, RECEIVED_V1


class ConfigError(ValueError):
    """Unusable configuration found while wiring a service (not by pydantic itself);
    the message names the setting and the problem, never a secret."""


class BaseTriageSettings(BaseSettings):
    # hide_input_in_errors: a refused value may be a secret (a plain API key, a DSN
    # with its password); an error names the variable and the problem only.
    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    log_level: str = Field("INFO", description="log level: DEBUG, INFO, WARNING, ERROR")
    log_format: Literal["text", "json"] = Field("text", description="log line format")


class KafkaSettings(BaseTriageSettings):
    """Client settings that work on both Apache Kafka and the local tansu broker."""

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="bootstrap servers, comma-separated")
    kafka_client_id: str = Field("triage", description="Kafka client id prefix")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism when a SASL protocol is used"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (a Secret)")
    kafka_ssl_cafile: str | None = Field(None, description="CA bundle for SSL; default system CAs")
    # tansu: a group join takes about session_timeout/2, so keep it short.
    kafka_session_timeout_ms: int = Field(
        6000, ge=1000, description="consumer group session timeout"
    )
    kafka_heartbeat_interval_ms: int = Field(
        1000, ge=100, description="consumer heartbeat interval"
    )
    # fetch latency is about fetch_max_wait/2 on tansu.
    kafka_fetch_max_wait_ms: int = Field(20, ge=1, le=5000, description="longest fetch wait")
    kafka_request_timeout_ms: int = Field(10000, ge=1000, description="Kafka request timeout")
    kafka_linger_ms: int = Field(2, ge=0, le=1000, description="producer batching delay")
    kafka_topic_partitions: int = Field(
        6, ge=1, description="partitions when Triage creates topics"
    )
    kafka_create_topics: bool = Field(True, description="create missing topics at start")
    kafka_replication_factor: int = Field(
        1, ge=1, description="replicas of each topic Triage creates (3 in production)"
    )
    kafka_min_insync_replicas: int = Field(
        1, ge=1, description="min.insync.replicas of the topics Triage creates (2 in production)"
    )
    kafka_max_message_bytes: int = Field(
        1_048_576, ge=262_144, le=16_777_216,
        description="largest received/classified record: ingest refuses (413) what would not "
        "fit, topics are created with it, consumers fetch it",
    )  # fmt: skip
    kafka_deadletter_retention_days: float = Field(
        30, gt=0, description="retention of the dead-letter topic (its original payloads)"
    )
    topic_received: str = Field(RECEIVED_V1, description="topic of accepted requests")
    topic_classified: str = Field(CLASSIFIED_V1, description="topic of classified requests")
    topic_deadletter: str = Field(DEADLETTER_V1, description="dead-letter topic")
    topic_documents: str = Field(
        DOCUMENTS_TOPIC, description="requests with files, waiting for text extraction"
    )

    @property
    def deadletter_max_bytes(self) -> int:
        """Largest dead letter: the record, escaped (at most twice as long) or base64
        (4/3), plus the error and the envelope. Producers and consumers use it."""
        return 2 * self.kafka_max_message_bytes + 65_536

    @model_validator(mode="after")
    def _replicas_consistent(self) -> KafkaSettings:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                "TRIAGE_KAFKA_MIN_INSYNC_REPLICAS is larger than TRIAGE_KAFKA_REPLICATION_FACTOR:"
                " no write could ever succeed"
            )
        return self


class HttpSettings(BaseTriageSettings):
    host: str = Field("127.0.0.1", description="HTTP listen address (0.0.0.0 in containers)")
    port: int = Field(8000, ge=0, le=65535, description="HTTP listen port")
    graceful_timeout_s: float = Field(20.0, gt=0, description="drain time on SIGTERM")


class DatabaseSettings(BaseTriageSettings):
    database_url: SecretStr = Field(
        SecretStr("postgresql://triage@127.0.0.1:5432/triage"),
        description="PostgreSQL DSN (postgresql://user:pass@host:port/db)",
    )
    database_pool_min: int = Field(1, ge=0, description="smallest connection pool")
    database_pool_max: int = Field(10, ge=1, description="largest connection pool")


def _all_hashed(keys: dict[str, str]) -> dict[str, str]:
    """Refuse a key stored in clear; the message names the sources, never the key."""
    bad = sorted(s for s, v in keys.items() if not (v.startswith(PREFIX) and len(v) == 71))
    if bad:
        raise ValueError(
            f"source(s) {bad}: expected 'sha256:<64 hex>': API keys are stored hashed"
            " (make one with `triage hash-key`)"
        )
    return keys


HashedKeys = Annotated[dict[str, str], AfterValidator(_all_hashed)]


class IntakeKeySettings(BaseTriageSettings):
    """The intake sources' API keys: ingest checks them on every POST, the router on
    ``GET /v1/requests/{id}``. One Secret serves both services."""

    ingest_api_keys: HashedKeys = Field(
        default_factory=dict,
        description='JSON {"source": "sha256:<hex of the key>"}; see `triage hash-key`',
    )
    ingest_api_keys_file: Path | None = Field(
        None, description="YAML/JSON file with the same mapping (merged over the variable)"
    )

    @model_validator(mode="after")
    def _merge_file(self) -> IntakeKeySettings:
        path = self.ingest_api_keys_file
        if path is None:
            return self
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(
                f"{path}: cannot read the API keys file ({type(exc).__name__})"
            ) from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping source -> hash")
        merged = {**self.ingest_api_keys, **{str(k): str(v) for k, v in data.items()}}
        object.__setattr__(self, "ingest_api_keys", _all_hashed(merged))
        return self
