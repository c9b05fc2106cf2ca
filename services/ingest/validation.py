"""Every rule a request to ingest must pass, single or batch: this is where any field,
limit or envelope is validated (and which status refuses it).

- body size: ``check_declared_length`` / ``check_size`` (413 ``too_large``)
- JSON and UTF-8: ``parse_json`` (400 ``malformed_json`` / ``invalid_utf8``)
- each field: the pydantic models below (422 ``validation_failed``, each field named)
- which characters text may hold: ``check_text``, on every text field (422)
- ``received_at``: ``check_received_at``, 2000-01-01 to a day ahead (422)
- text length and the key's own source: ``Rules.checked`` (413, 403 ``forbidden``)
- the batch envelope ``{"requests": [...]}``: ``Rules.batch_items`` (422, 413)

The OpenAPI document (``services/ingest/openapi.py``) is generated from these models.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as PydanticError

from services.ingest.files import check_file, check_total, decode_base64
from services.ingest.settings import IngestSettings
from shared.documents.store import File
from shared.errors import Forbidden, Invalid, Malformed, TooLarge, validation_error
from shared.events import (
    MAX_ATTACHMENTS,
    MAX_METADATA_ENTRIES,
    METADATA_KEY_CHARS,
    METADATA_VALUE_CHARS,
    Channel,
)

# Control characters other than tab, line feed and carriage return, and UTF-16
# surrogates: PostgreSQL cannot store NUL, JSON must escape the others (six bytes
# each), a lone surrogate cannot be encoded at all, and none is ever part of a
# citizen's text. Refused at the door, so no later stage has to clean them.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_text(value: str) -> str:
    """The one text policy of Triage, for every text field ingest accepts (subject,
    body, attachment names and texts, metadata keys and values, file names...).

    Raises ValueError (a 422 naming the field inside a pydantic model); returns the
    text unchanged otherwise.
    """
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise ValueError(
            f"character U+{ord(found.group()):04X} at position {found.start()} is refused:"
            " no control characters but tab, line feed and carriage return, no lone surrogates"
        )
    return value


# received_at: the SLA is computed from it, on a working-day calendar that knows
# only real years; a source clock a little ahead is tolerated.
EARLIEST_RECEIVED = datetime(2000, 1, 1, tzinfo=UTC)
RECEIVED_AHEAD = timedelta(days=1)


def check_received_at(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value < EARLIEST_RECEIVED:
        raise ValueError("must not be before 2000-01-01")
    if value > datetime.now(UTC) + RECEIVED_AHEAD:
        raise ValueError("must not be more than one day in the future")
    return value


Text = Annotated[str, AfterValidator(check_text)]
Source = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]
NonBlank = Annotated[Text, StringConstraints(min_length=1, pattern=r"\S")]
MetaKey = Annotated[Text, StringConstraints(min_length=1, max_length=METADATA_KEY_CHARS)]
MetaValue = (
    Annotated[Text, StringConstraints(max_length=METADATA_VALUE_CHARS)] | int | float | bool | None
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AttachmentIn(_Strict):
    """A text attachment ``{"name", "text"}``, or a file ``{"name", "content_type",
    "content_base64"}``: PDF, PNG/JPEG/TIFF scan, DOCX, text/plain, text/html or
    message/rfc822.

    One model rather than a union of two, so that an error names
    ``attachments.N.field`` (a union reports every member's errors)."""

    name: Annotated[Text, StringConstraints(max_length=255)] = ""
    text: Text | None = None
    content_type: Annotated[Text, StringConstraints(min_length=1, max_length=100)] | None = None
    content_base64: str | None = Field(None, description="a file's bytes, base64 (RFC 4648)")

    @model_validator(mode="after")
    def _text_or_file(self) -> AttachmentIn:
        if (self.text is None) == (self.content_base64 is None):
            raise ValueError("give either text, or content_type and content_base64 (a file)")
        if self.is_file and (self.content_type is None or not self.name):
            raise ValueError("a file needs a name and a content_type")
        return self

    @property
    def is_file(self) -> bool:
        return self.content_base64 is not None


class IntakeRequest(_Strict):
    """One request from an intake system."""

    source: Source = Field(description="intake source; must match the API key's source")
    external_id: ExternalId = Field(description="the source's own id; retries reuse it")
    channel: Channel
    subject: Annotated[Text, StringConstraints(max_length=1000)] = ""
    body: NonBlank = Field(description="the request text (not empty)")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        None, description="ISO 639-1 code when the source knows it"
    )
    received_at: Annotated[AwareDatetime | None, AfterValidator(check_received_at)] = Field(
        None,
        description="when the source received it (with timezone), from 2000-01-01 to one day"
        " ahead; default now",
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    metadata: dict[MetaKey, MetaValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES
    )
    # The decoded files (set by Rules.checked): stored by ingest, never in an event.
    _files: list[File] = PrivateAttr(default_factory=list)

    def text_attachments(self) -> list[AttachmentIn]:
        return [a for a in self.attachments if not a.is_file]

    def text_chars(self) -> int:
        return (
            len(self.subject)
            + len(self.body)
            + sum(len(a.text or "") for a in self.text_attachments())
        )

    @property
    def files(self) -> list[File]:
        return self._files

    def fingerprint(self) -> str:
        """Hash of the content: a retry has the same, a reused external_id another one.
        Files count by their sha256; an omitted received_at is not content."""
        content = self.model_dump(mode="json", exclude={"attachments"}, exclude_none=True)
        content["texts"] = [a.model_dump() for a in self.text_attachments()]
        content["files"] = [[f.name, f.content_type, f.sha256] for f in self._files]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class BatchIn(_Strict):
    """Documentation of the batch body; items are validated one by one (``batch_items``)."""

    requests: list[IntakeRequest] = Field(min_length=1)


def parse_json(raw: bytes) -> object:
    """The JSON value of a body, or a 400 saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"body is not valid UTF-8 (byte {exc.start})", code="invalid_utf8") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Malformed(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="malformed_json",
        ) from exc
    except RecursionError as exc:  # e.g. [[[[...]]]] 100,000 deep: a 400, not a 500
        raise Malformed("body is nested too deeply", code="malformed_json") from exc


def _lone_surrogate(value: object, path: str = "") -> str | None:
    """The dotted path of the first key or string holding a surrogate, if any."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        pairs: list[tuple[object, object]] = list(value.items())
    elif isinstance(value, list):
        pairs = list(enumerate(value))
    else:
        return None
    for key, item in pairs:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _SURROGATE.search(key):
            return where
        if (found := _lone_surrogate(item, where)) is not None:
            return found
    return None


_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Rules:
    """The limits of one service's settings, applied to bodies and requests."""

    def __init__(self, settings: IngestSettings) -> None:
        self.max_bytes = settings.ingest_max_request_bytes
        self.max_chars = settings.ingest_max_text_chars
        self.max_batch = settings.ingest_max_batch
        self.max_file_bytes = settings.ingest_max_file_bytes
        self.max_files_bytes = settings.ingest_max_files_bytes
        self.max_pdf_pages = settings.ingest_max_pdf_pages

    def too_large(self) -> TooLarge:
        return TooLarge(f"HTTP body over {self.max_bytes} bytes")

    def check_declared_length(self, content_length: str | None) -> None:
        """Refuse a body announced too large before reading any of it."""
        if content_length and content_length.isdigit() and int(content_length) > self.max_bytes:
            raise self.too_large()

    def check_size(self, size: int) -> None:
        """Called as the body arrives: a 413 as soon as it grows past the limit."""
        if size > self.max_bytes:
            raise self.too_large()

    def parse_one(self, raw: bytes, source: str) -> IntakeRequest:
        """The request in a body of ``POST /v1/requests``.

        pydantic parses and validates the bytes in one pass. Whatever it refuses is
        parsed again the way ``validate`` does it, which names the problem precisely
        (400 for bad UTF-8 or JSON, 422 per field): the refusals are the same either
        way, only valid requests skip the second parse.
        """
        try:
            item = IntakeRequest.model_validate_json(raw)
        except PydanticError:
            return self.validate(parse_json(raw), source)
        return self.checked(item, source)

    def validate(self, data: object, source: str) -> IntakeRequest:
        """One parsed JSON value (a body, or an item of a batch) as a request of ``source``."""
        if not isinstance(data, dict):
            raise Invalid("the request must be a JSON object", code="validation_failed")
        try:
            # JSON mode: strings for date-times and enums are the JSON way of writing them.
            item = IntakeRequest.model_validate_json(json.dumps(data))
        except PydanticError as exc:
            field = _lone_surrogate(data)
            if field is not None:  # pydantic's JSON parser refuses it without naming the field
                raise Invalid(
                    "text holds a lone UTF-16 surrogate", code="validation_failed",
                    details=[{"field": field, "problem": "lone surrogate: not a character"}],
                ) from exc  # fmt: skip
            raise validation_error(exc) from exc
        return self.checked(item, source)

    def checked(self, item: IntakeRequest, source: str) -> IntakeRequest:
        """What the models cannot say alone: the limits, the files, the caller's own source."""
        if item.text_chars() > self.max_chars:
            raise TooLarge(f"subject + body + attachments over {self.max_chars} characters")
        if item.source != source:
            raise Forbidden(f"this API key may not send requests for source {item.source!r}")
        files = [
            File(
                a.name,
                (a.content_type or "").split(";")[0].strip().lower(),
                decode_base64(a.name, a.content_base64 or ""),
            )
            for a in item.attachments
            if a.is_file
        ]
        self.check_files(files)
        item._files = files
        return item

    def check_files(self, files: list[File]) -> None:
        for file in files:
            check_file(file, self.max_file_bytes, self.max_pdf_pages)
        check_total(files, self.max_files_bytes)

    def batch_items(self, data: object) -> list[object]:
        """The items of a batch body ``{"requests": [...]}`` (each validated later, alone)."""
        if (
            not isinstance(data, dict)
            or set(data) != {"requests"}
            or not isinstance(data["requests"], list)
        ):
            raise Invalid(
                'expected an object {"requests": [ ... ]}',
                code="validation_failed",
                details=[{"field": "requests", "problem": "required list of requests"}],
            )
        items: list[object] = data["requests"]
        if not items:
            raise Invalid(
                "requests is empty",
                code="validation_failed",
                details=[{"field": "requests", "problem": "must hold at least one request"}],
            )
        if len(items) > self.max_batch:
            raise TooLarge(f"at most {self.max_batch} requests per batch ({len(items)} sent)")
        return items
