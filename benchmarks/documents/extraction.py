"""Extraction speed, in this process and in the service's bounded worker pool:
pages per second of PDFs with a text layer, seconds per page of OCR."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.e2e.measure import percentiles
from services.classifier.extraction.pool import ExtractionPool
from services.classifier.extraction.readers import PDF, Extracted, Limits, extract
from testing import documents as d

LIMITS = Limits()


def text_pdf_pages_per_s(pages: int = 40, rounds: int = 5) -> dict[str, Any]:
    """A 40-page letter with a text layer, read ``rounds`` times (pypdf, one core)."""
    pdf = d.text_pdf([d.FR_LETTER + d.NL_LETTER + d.EN_REPORT] * pages)
    extract(PDF, pdf, LIMITS)  # imports and first-use costs out of the timing
    start = time.perf_counter()
    for _ in range(rounds):
        result = extract(PDF, pdf, LIMITS)
        assert len(result.pages) == pages and result.ocr_pages == 0
    elapsed = time.perf_counter() - start
    return {"pages": pages * rounds, "seconds": round(elapsed, 3),
            "pages_per_s": round(pages * rounds / elapsed, 1)}  # fmt: skip


async def _ocr(pool: ExtractionPool, pages: int) -> list[float]:
    scans = [("image/png", d.scan_image(d.FR_LETTER)), (PDF, d.scanned_pdf(d.NL_LETTER))]
    await pool.extract(*scans[0], LIMITS)  # the worker's start and Tesseract's first load
    seconds = []
    for i in range(pages):
        content_type, data = scans[i % 2]
        start = time.perf_counter()
        result = await pool.extract(content_type, data, LIMITS)
        assert isinstance(result, Extracted) and result.ocr_pages == 1
        seconds.append(time.perf_counter() - start)
    return seconds


def ocr_seconds_per_page(pages: int = 8) -> dict[str, Any]:
    """Scanned pages (FR PNG and NL PDF page, alternately) through the service's pool:
    one worker, nice 10, Tesseract fra+nld+eng at 200 dpi."""
    pool = ExtractionPool(workers=1, memory_bytes=512 * 1024 * 1024, timeout_s=300)
    try:
        seconds = asyncio.run(_ocr(pool, pages))
    finally:
        pool.close()
    return {"pages": pages, "seconds_per_page": percentiles(seconds),
            "mean_s": round(sum(seconds) / len(seconds), 2)}  # fmt: skip
