"""OCR with the real Tesseract, in the bounded worker processes: a French scan (PNG),
a Dutch scanned PDF page (no text layer), a blank scan (unreadable: no text), and a
file that runs past the timeout (its worker killed, the next file still read)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.classifier.extraction.pool import ExtractionPool
from services.classifier.extraction.readers import PDF, Extracted, Limits
from testing import documents as d

LIMITS = Limits()


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractionPool]:
    workers = ExtractionPool(workers=1, memory_bytes=512 * 1024 * 1024, timeout_s=120)
    try:
        yield workers
    finally:
        workers.close()


async def test_french_scan_and_dutch_scanned_pdf_page(pool: ExtractionPool) -> None:
    french = await pool.extract("image/png", d.scan_image(d.FR_LETTER), LIMITS)
    dutch = await pool.extract(PDF, d.scanned_pdf(d.NL_LETTER), LIMITS)
    assert isinstance(french, Extracted) and isinstance(dutch, Extracted)
    assert french.ocr_pages == dutch.ocr_pages == 1
    assert "couper le gaz demain" in french.pages[0]
    assert "aide urgente du CPAS" in french.pages[0]
    assert "uit mijn woning zetten" in dutch.pages[0]
    assert "OCMW" in dutch.pages[0]


async def test_blank_scan_is_unreadable(pool: ExtractionPool) -> None:
    assert await pool.extract("image/png", d.blank_png(), LIMITS) == "no_text"


async def test_a_file_past_the_timeout_loses_its_worker_not_the_next_file() -> None:
    slow = ExtractionPool(workers=1, memory_bytes=512 * 1024 * 1024, timeout_s=0.5)
    try:
        scans = d.scanned_pdf(d.NL_LETTER * 6)
        assert await slow.extract(PDF, scans, LIMITS) == "timeout"
        slow.timeout_s = 120
        result = await slow.extract("text/plain", b"encore lisible", LIMITS)
        assert isinstance(result, Extracted) and result.pages == ["encore lisible"]
    finally:
        slow.close()
