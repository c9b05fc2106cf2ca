"""Classifier settings: one class per concern, built in each command's ``main``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from shared.settings import BaseTriageSettings, HttpSettings, KafkaSettings


class ModelPaths(BaseTriageSettings):
    """Where embedders and models are built and found.

    The service, ``triage build-embedder``, ``triage default-model``, train,
    evaluate and the benchmarks build it in ``main`` and pass the paths down.
    ``make`` and the Dockerfile set ``TRIAGE_CACHE_DIR`` (the checkout's ``.cache``
    and the image's cache folder).
    """

    cache_dir: Path = Field(
        Path("~/.cache/triage"),
        description="cache of built embedders and models (under its models/ folder)",
    )

    @field_validator("cache_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def models_dir(self) -> Path:
        """Embedder folders, the demo models and their ``current.json`` pointer."""
        return self.cache_dir / "models"


class ClassifierSettings(ModelPaths, KafkaSettings, HttpSettings):
    port: int = Field(8002, ge=0, le=65535, description="HTTP listen port")
    model_dir: Path | None = Field(
        None, description="trained model artifact; default: the demo model built by `make model`"
    )
    embedder_path: str | None = Field(
        None, description="embedder folder when not the default offline e5-small build"
    )
    classifier_group_id: str = Field("triage-classifier", description="consumer group")
    classifier_batch_size: int = Field(64, ge=1, le=1024, description="max records per batch")
    classifier_batch_wait_ms: int = Field(5, ge=0, le=1000, description="wait to fill a batch")
    classifier_max_attempts: int = Field(3, ge=1, le=20, description="tries before dead-letter")
    classifier_threads: int | None = Field(
        None, ge=1, description="inference threads (onnxruntime and torch); default: cores"
    )
    classifier_lag_interval_s: float = Field(5.0, gt=0, description="lag gauge refresh")
    identity_hash_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="HMAC key (a Secret, 16+ characters) of the identifiers that link a "
        "person's requests; unset: no same-person matching. Changing it unlinks older items",
    )
