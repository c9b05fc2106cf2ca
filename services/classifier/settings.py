"""Classifier settings: one class per concern, built in each command's ``main``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from services.classifier.keypoints import Params
from services.classifier.window import DEFAULT_WINDOW_WORDS
from shared.events import KEY_POINTS_MAX
from shared.settings import BaseTriageSettings, DatabaseSettings, HttpSettings, KafkaSettings


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


class ExtractionSettings(DatabaseSettings):
    """The extraction stage (files to text), run by the classifier service."""

    extract_enabled: bool = Field(
        True, description="run the extraction stage of requests with files"
    )
    extract_group_id: str = Field("triage-extractor", description="its consumer group")
    extract_workers: int = Field(1, ge=1, le=16, description="extraction worker processes")
    extract_niceness: int = Field(
        10, ge=0, le=19,
        description="CPU priority of the extraction workers and their Tesseract (19: lowest);"
        " plain-text classification runs at 0 and comes first",
    )  # fmt: skip
    extract_memory_mb: int = Field(
        512, ge=128, description="address-space cap of each extraction worker (MiB)"
    )
    extract_timeout_s: float = Field(
        240.0,
        gt=0,
        le=280,
        description="longest extraction of one request's files (a worker past it is killed);"
        " under the consumer's 5-minute poll interval",
    )
    extract_max_chars: int = Field(
        50_000,
        ge=1000,
        le=50_000,  # the event size bound (tests/unit/shared/test_event_size.py) counts 50,000
        description="extracted text carried in the event, per request (the rest stays in the file)",
    )
    extract_max_pages: int = Field(50, ge=1, description="most pages read from one file")
    extract_ocr_languages: str = Field("fra+nld+eng", description="Tesseract languages for scans")
    extract_ocr_dpi: int = Field(
        200, ge=72, le=600, description="resolution PDF pages are read at by OCR"
    )


class ModelStoreSettings(BaseTriageSettings):
    """The store of model versions (``services/classifier/model/store.py``)."""

    model_store: Path | None = Field(
        None,
        description="folder of registered model versions and active.json; set: the classifier "
        "serves the active version and follows promotions without a restart",
    )


class ClassifierSettings(
    ModelPaths, ModelStoreSettings, KafkaSettings, HttpSettings, ExtractionSettings
):
    port: int = Field(8002, ge=0, le=65535, description="HTTP listen port")
    model_dir: Path | None = Field(
        None, description="trained model artifact; default: the demo model built by `make model`"
    )
    embedder_path: str | None = Field(
        None, description="embedder folder when not the default offline e5-small build"
    )
    classifier_group_id: str = Field("triage-classifier", description="consumer group")
    classifier_batch_size: int = Field(64, ge=1, le=1024, description="max records per batch")
    classifier_batch_wait_ms: int = Field(5, ge=1, le=1000, description="wait to fill a batch")
    classifier_max_attempts: int = Field(3, ge=1, le=20, description="tries before dead-letter")
    classifier_threads: int | None = Field(
        None, ge=1, description="inference threads (onnxruntime and torch); default: cores"
    )
    classifier_lag_interval_s: float = Field(5.0, gt=0, description="lag gauge refresh")
    classifier_model_poll_s: float = Field(
        5.0, gt=0, description="how often the model store's active.json is checked"
    )

    classifier_key_points_min_words: int = Field(
        150, ge=0, description="requests (subject, body, files) longer than this get key points"
    )
    classifier_key_points_max: int = Field(
        7, ge=3, le=KEY_POINTS_MAX, description="most key points per request (at least 3)"
    )
    classifier_key_points_candidates: int = Field(
        8, ge=KEY_POINTS_MAX, le=200,
        description="sentences embedded per long request to choose its key points (cost bound)",
    )  # fmt: skip

    classifier_window_words: int = Field(
        DEFAULT_WINDOW_WORDS, ge=50, le=2000,
        description="longer requests: the embedder reads the first part and the key points",
    )  # fmt: skip

    def key_point_params(self) -> Params:
        return Params(
            min_words=self.classifier_key_points_min_words,
            max_points=self.classifier_key_points_max,
            candidates=self.classifier_key_points_candidates,
        )

    identity_hash_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="HMAC key (a Secret, 16+ characters) of the identifiers that link a "
        "person's requests; unset: no same-person matching. Changing it unlinks older items",
    )
