"""``POST /v1/messages``: a raw e-mail (``message/rfc822``) as an e-mail gateway
forwards it, turned into the same request as a JSON intake would be.

``external_id`` is the ``Message-ID`` (a resent message gives the same request id),
the subject and date are the message's, the text is its plain-text part or its HTML
part turned into text, the channel is ``email``, and its attachments are files
checked by the same rules as JSON ones. The parsing is the standard library's
(``email``, policy ``default``), the HTML to text BeautifulSoup's.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic import ValidationError as PydanticError

from services.ingest.files import MAGIC
from services.ingest.validation import IntakeRequest, Rules
from shared.documents.mail import body_text, parse_message
from shared.documents.store import File
from shared.errors import Invalid, UnsupportedType, validation_error

CONTENT_TYPE = "message/rfc822"
_MESSAGE_ID = re.compile(r"^<?([\x21-\x3b\x3d\x3f-\x7e]{1,198})>?$")
_OCTET_STREAM = "application/octet-stream"


def check_content_type(value: str | None) -> None:
    if (value or "").split(";")[0].strip().lower() != CONTENT_TYPE:
        raise UnsupportedType(f"send the raw e-mail with Content-Type: {CONTENT_TYPE}")


def _malformed(problem: str, field: str) -> Invalid:
    return Invalid(
        f"malformed e-mail: {problem}",
        code="malformed_message",
        details=[{"field": field, "problem": problem}],
    )


def _message_id(message: EmailMessage) -> str:
    # the raw value: the parsed header drops what follows a malformed id
    raw = (v for k, v in message.raw_items() if k.lower() == "message-id")
    value = " ".join(str(next(raw, "")).split())
    match = _MESSAGE_ID.match(value)
    if not value:
        raise _malformed("no Message-ID header", "Message-ID")
    if not match:
        raise _malformed("Message-ID is not a valid message identifier", "Message-ID")
    return match[1]


def _date(message: EmailMessage) -> datetime | None:
    value = message.get("date")
    if value is None:
        return None
    try:
        date = parsedate_to_datetime(str(value))
    except (TypeError, ValueError) as exc:
        raise _malformed("the Date header is not an RFC 5322 date", "Date") from exc
    if date.tzinfo is None:
        raise _malformed("the Date header has no time zone", "Date")
    return date


def _sniffed(content_type: str, data: bytes) -> str:
    """Gateways often label any file application/octet-stream: then the bytes say."""
    if content_type != _OCTET_STREAM:
        return content_type
    return next((t for t, looks_like in MAGIC.items() if looks_like(data)), content_type)


def _attachments(message: EmailMessage) -> list[File]:
    files = []
    for index, part in enumerate(message.iter_attachments(), start=1):
        content = part.get_content()
        if isinstance(content, EmailMessage):
            data = content.as_bytes()
        elif isinstance(content, str):
            data = content.encode("utf-8")
        else:
            data = bytes(content)
        name = part.get_filename() or f"attachment-{index}"
        files.append(File(name[:255], _sniffed(part.get_content_type(), data), data))
    return files


def request_from_message(raw: bytes, source: str, rules: Rules) -> IntakeRequest:
    """The intake request of one raw e-mail of ``source``; 422 naming what is wrong."""
    if not raw.strip():
        raise _malformed("empty body", "message")
    message = parse_message(raw)
    if not message.keys() or message.get("from") is None:
        raise _malformed("no From header (is this an RFC 5322 message?)", "From")
    external_id = _message_id(message)
    subject = " ".join(str(message.get("subject", "")).split())[:1000]
    try:
        files = _attachments(message)
        text = body_text(message)
    except (LookupError, ValueError, TypeError) as exc:  # broken MIME structure
        raise _malformed(f"unreadable MIME structure ({type(exc).__name__})", "message") from exc
    body = text or subject or ("(e-mail without text: see its attachments)" if files else "")
    if not body:
        raise _malformed("no text, no subject and no attachment", "message")
    fields: dict[str, Any] = {
        "source": source, "external_id": external_id, "channel": "email",
        "subject": subject, "body": body, "received_at": _date(message),
    }  # fmt: skip
    try:
        item = IntakeRequest.model_validate(fields, strict=False)
    except PydanticError as exc:
        raise validation_error(exc, "the e-mail does not make a valid request") from exc
    item = rules.checked(item, source)
    rules.check_files(files)
    item._files = files
    return item
