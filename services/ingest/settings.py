"""Ingest settings: one class, built in ``main``."""

from __future__ import annotations

from pydantic import Field

from shared.settings import DatabaseSettings, HttpSettings, IntakeKeySettings, KafkaSettings


class IngestSettings(KafkaSettings, HttpSettings, IntakeKeySettings, DatabaseSettings):
    port: int = Field(8001, ge=0, le=65535, description="HTTP listen port")
    ingest_max_text_chars: int = Field(
        100_000, ge=1, description="largest subject + body + attachments (413 above)"
    )
    ingest_max_request_bytes: int = Field(
        30_000_000, ge=1024, description="largest HTTP body, files in base64 included (413 above)"
    )
    ingest_max_file_bytes: int = Field(
        10_000_000, ge=1, description="largest file attachment, decoded (413 above)"
    )
    ingest_max_files_bytes: int = Field(
        20_000_000, ge=1, description="largest total of a request's files, decoded (413 above)"
    )
    ingest_max_pdf_pages: int = Field(50, ge=1, description="most pages of one PDF (422 above)")
    ingest_max_batch: int = Field(500, ge=1, le=5000, description="requests per batch call")
    ingest_publish_timeout_s: float = Field(5.0, gt=0, description="wait for the broker's ack")
    ingest_retry_after_s: int = Field(5, ge=1, description="Retry-After when the broker is down")
