"""Readers: the bytes of one file to the text of each of its pages.

PDF text layers with pypdf; pages without one are rendered with pypdfium2 and read
by Tesseract (pytesseract), as are PNG/JPEG/TIFF scans; DOCX with python-docx;
HTML with BeautifulSoup; e-mails with the standard library. What cannot be read
raises :class:`Unreadable` with a short, bounded problem code — never the text.
Runs in the extraction worker processes (``pool.py``), which bound CPU and memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.documents.mail import body_text, clean, html_to_text, parse_message

# A page with fewer characters in its text layer is taken for a scan and read by OCR.
MIN_LAYER_CHARS = 20
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Unreadable(Exception):
    """The file cannot be read; ``problem`` is one of a few fixed codes."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Limits:
    max_pages: int = 50
    max_pixels: int = 40_000_000  # per page image: about A4 at 600 dpi
    max_unzipped_bytes: int = 50_000_000  # DOCX contents, uncompressed
    ocr_languages: str = "fra+nld+eng"
    ocr_dpi: int = 200
    ocr_timeout_s: float = 60.0


@dataclass(frozen=True)
class Extracted:
    pages: list[str]  # the text of page 1, 2, ... ('' for an empty page)
    ocr_pages: int = 0


def extract(content_type: str, data: bytes, limits: Limits) -> Extracted:
    reader = READERS.get(content_type)
    if reader is None:
        raise Unreadable("unsupported")
    try:
        result = reader(data, limits)
    except Unreadable:
        raise
    except MemoryError as exc:
        raise Unreadable("too_large") from exc
    except Exception as exc:  # any library's complaint about damaged input
        raise Unreadable("corrupt") from exc
    if not any(page.strip() for page in result.pages):
        raise Unreadable("no_text")
    return result


def read_pdf(data: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not _decrypts(reader):
        raise Unreadable("encrypted")
    if len(reader.pages) > limits.max_pages:
        raise Unreadable("too_many_pages")
    pages: list[str] = []
    ocr = 0
    for index, page in enumerate(reader.pages):
        text = clean(page.extract_text() or "")
        if len(text) < MIN_LAYER_CHARS:
            text, ocr = _ocr_pdf_page(data, index, limits), ocr + 1
        pages.append(text)
    return Extracted(pages, ocr)


def _decrypts(reader: Any) -> bool:
    """Only an empty user password (owner-restricted PDFs open for reading)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # unsupported algorithm, missing crypto provider
        return False


def _ocr_pdf_page(data: bytes, index: int, limits: Limits) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        page = document[index]
        width, height = page.get_size()  # points
        scale = limits.ocr_dpi / 72
        pixels = width * height * scale * scale
        if pixels > limits.max_pixels:
            scale *= (limits.max_pixels / pixels) ** 0.5
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        document.close()
    return ocr(image, limits)


def read_image(data: bytes, limits: Limits) -> Extracted:
    from PIL import Image, ImageSequence

    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own guard (over 2 x 89 Mpx)
        raise Unreadable("decompression_bomb") from exc
    pages = []
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if number > limits.max_pages:
            raise Unreadable("too_many_pages")
        if frame.width * frame.height > limits.max_pixels:
            raise Unreadable("decompression_bomb")
        pages.append(ocr(frame.convert("L"), limits))
    return Extracted(pages, len(pages))


def ocr(image: Any, limits: Limits) -> str:
    import pytesseract

    try:
        text = pytesseract.image_to_string(
            image, lang=limits.ocr_languages, timeout=limits.ocr_timeout_s
        )
    except RuntimeError as exc:  # pytesseract's timeout
        raise Unreadable("timeout") from exc
    return clean(text)


def read_docx(data: bytes, limits: Limits) -> Extracted:
    from docx import Document

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > limits.max_unzipped_bytes:
            raise Unreadable("decompression_bomb")
    document = Document(io.BytesIO(data))
    return Extracted([clean("\n".join(_docx_lines(document)))])


def _docx_lines(document: Any) -> Iterator[str]:
    yield from (p.text for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            yield " | ".join(cell.text for cell in row.cells)


def read_text(data: bytes, limits: Limits) -> Extracted:
    return Extracted([clean(data.decode("utf-8", "replace"))])


def read_html(data: bytes, limits: Limits) -> Extracted:
    return Extracted([html_to_text(data.decode("utf-8", "replace"))])


def read_message(data: bytes, limits: Limits) -> Extracted:
    message = parse_message(data)
    subject = str(message.get("subject", ""))
    return Extracted([clean(f"{subject}\n\n{body_text(message)}")])


READERS: dict[str, Callable[[bytes, Limits], Extracted]] = {
    PDF: read_pdf,
    "image/png": read_image,
    "image/jpeg": read_image,
    "image/tiff": read_image,
    DOCX: read_docx,
    "text/plain": read_text,
    "text/html": read_html,
    "message/rfc822": read_message,
}
