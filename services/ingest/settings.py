"""Ingest settings: one class, built in ``main``."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from shared.settings import HttpSettings, KafkaSettings


class IngestSettings(KafkaSettings, HttpSettings):
    port: int = Field(8001, ge=0, le=65535, description="HTTP listen port")
    ingest_api_keys: dict[str, str] = Field(
        default_factory=dict,
        description='JSON {"source": "sha256:<hex of the key>"}; see `triage hash-key`',
    )
    ingest_api_keys_file: Path | None = Field(
        None, description="YAML/JSON file with the same mapping (merged over the variable)"
    )
    ingest_max_text_chars: int = Field(
        100_000, ge=1, description="largest subject + body + attachments (413 above)"
    )
    ingest_max_request_bytes: int = Field(
        2_000_000, ge=1024, description="largest HTTP body (413 above)"
    )
    ingest_max_batch: int = Field(500, ge=1, le=5000, description="requests per batch call")
    ingest_publish_timeout_s: float = Field(5.0, gt=0, description="wait for the broker's ack")
    ingest_retry_after_s: int = Field(5, ge=1, description="Retry-After when the broker is down")

    @field_validator("ingest_api_keys")
    @classmethod
    def _hashed(cls, keys: dict[str, str]) -> dict[str, str]:
        for source, hashed in keys.items():
            if not hashed.startswith("sha256:") or len(hashed) != 71:
                raise ValueError(
                    f"API key of source {source!r} must be stored hashed as sha256:<64 hex>"
                    " (use `triage hash-key`)"
                )
        return keys

    @model_validator(mode="after")
    def _merge_file(self) -> IngestSettings:
        if self.ingest_api_keys_file is not None:
            import yaml

            data = yaml.safe_load(self.ingest_api_keys_file.read_text()) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{self.ingest_api_keys_file}: expected a mapping source -> hash")
            merged = {**self.ingest_api_keys, **{str(k): str(v) for k, v in data.items()}}
            object.__setattr__(self, "ingest_api_keys", self._hashed(merged))
        return self

    def describe(self) -> str:
        return json.dumps(
            {"sources": sorted(self.ingest_api_keys), "bootstrap": self.kafka_bootstrap}
        )
