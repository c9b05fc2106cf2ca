"""File attachments at the door: base64, declared type against magic bytes, limits.

Every refusal names the file. What is refused here is what can be told cheaply and
for sure; what only extraction can find (an encrypted or corrupt PDF, a decompression
bomb, a scan without text) is accepted and becomes a "document unreadable" item.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from collections.abc import Callable

from shared.documents.store import File
from shared.errors import Invalid, TooLarge, UnsupportedType

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def _is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


# Each accepted type and how its bytes must start (or read).
MAGIC: dict[str, Callable[[bytes], bool]] = {
    PDF: lambda d: d.startswith(b"%PDF-"),
    "image/png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
    "image/tiff": lambda d: d[:4] in (b"II*\x00", b"MM\x00*"),
    DOCX: _is_docx,
    "text/plain": _is_text,
    "text/html": _is_text,
    "message/rfc822": lambda d: _is_text(d) and bool(_HEADER_LINE.match(d.lstrip())),
}


def decode_base64(name: str, content_base64: str) -> bytes:
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(
            f"file {name!r}: content_base64 is not valid base64",
            code="validation_failed",
            details=[{"field": f"attachments[{name}].content_base64", "problem": "not base64"}],
        ) from exc


def check_file(file: File, max_bytes: int, max_pdf_pages: int) -> None:
    """415 for a type not accepted or not what the bytes are, 413/422 for the limits."""
    content_type = file.content_type.split(";")[0].strip().lower()
    check = MAGIC.get(content_type)
    if check is None:
        raise UnsupportedType(
            f"file {file.name!r}: type {content_type!r} is not accepted"
            f" (accepted: {', '.join(sorted(MAGIC))})"
        )
    if len(file.data) > max_bytes:
        raise TooLarge(f"file {file.name!r}: {len(file.data)} bytes, over {max_bytes}")
    if not file.data:
        raise Invalid(f"file {file.name!r} is empty", code="validation_failed")
    if not check(file.data):
        raise UnsupportedType(
            f"file {file.name!r}: declared {content_type!r} but the content is not of that type",
            code="type_mismatch",
        )
    if content_type == PDF:
        pages = pdf_pages(file.data)
        if pages is not None and pages > max_pdf_pages:
            raise Invalid(
                f"file {file.name!r}: {pages} pages, over {max_pdf_pages}", code="too_many_pages"
            )


def pdf_pages(data: bytes) -> int | None:
    """The page count, or None when pypdf cannot tell (extraction will say unreadable)."""
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # any damage: not ours to refuse, the item will say "unreadable"
        return None


def check_total(files: list[File], max_total: int) -> None:
    total = sum(len(f.data) for f in files)
    if total > max_total:
        raise TooLarge(f"files of the request total {total} bytes, over {max_total}")
