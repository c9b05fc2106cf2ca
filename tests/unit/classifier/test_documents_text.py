"""Extraction readers (no OCR here: Tesseract is a process, see the integration tier),
the extracted request built from their results, the model window, and the review
reason of an unreadable document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from services.classifier.cues import CueLexicon
from services.classifier.extraction.readers import DOCX, PDF, Extracted, Limits, Unreadable, extract
from services.classifier.extraction.stage import ExtractionMetrics, Extractor, with_text
from services.classifier.pipeline import UNREADABLE_REASON, Classifier
from shared.consumer import Consumed
from shared.documents.mail import clean
from shared.documents.store import File, StoredDocument
from shared.events import DocumentRef, DocumentStatus, RequestReceived, request_id_for
from testing import documents as d
from tests.unit.classifier.test_pipeline import FakeDetector, FakeModel

LIMITS = Limits()


def test_pdf_text_layer_one_text_per_page() -> None:
    result = extract(PDF, d.text_pdf([d.FR_LETTER, d.NL_LETTER]), LIMITS)
    assert result.ocr_pages == 0
    assert len(result.pages) == 2
    assert "couper le gaz demain" in result.pages[0]
    assert "OCMW" in result.pages[1]


def test_docx_html_text_and_message() -> None:
    assert "home care" in extract(DOCX, d.docx(d.EN_REPORT), LIMITS).pages[0]
    html = b"<html><head><style>p{}</style></head><body><p>Aide <b>urgente</b></p></body></html>"
    assert extract("text/html", html, LIMITS).pages == ["Aide\nurgente"]
    assert extract("text/plain", b"bonjour\x00 madame", LIMITS).pages == ["bonjour madame"]
    assert clean("a\ud800b\x07c\n\n\n d") == "a b c\n\nd"
    page = extract("message/rfc822", d.html_email(), LIMITS).pages[0]
    assert page.startswith("Demande d'aide") and "couper le gaz" in page


@pytest.mark.parametrize(
    ("content_type", "data", "problem"),
    [
        (PDF, d.encrypted_pdf(), "encrypted"),
        (PDF, d.corrupt_pdf(), "corrupt"),
        ("image/png", d.bomb_png(), "decompression_bomb"),
        (DOCX, b"PK\x03\x04 not a zip", "corrupt"),
        ("text/plain", b"   \n ", "no_text"),
        ("application/zip", b"PK", "unsupported"),
    ],
)
def test_what_cannot_be_read_says_why(content_type: str, data: bytes, problem: str) -> None:
    with pytest.raises(Unreadable) as caught:
        extract(content_type, data, LIMITS)
    assert caught.value.problem == problem


def test_too_many_pages() -> None:
    with pytest.raises(Unreadable, match="too_many_pages"):
        extract(PDF, d.text_pdf([d.FR_LETTER] * 3), Limits(max_pages=2))


def _event(**change: object) -> RequestReceived:
    files = [File("lettre.pdf", PDF, b"%PDF-1"), File("scan.png", "image/png", b"\x89PNG")]
    rid = request_id_for("demo", "doc-1")
    return RequestReceived(
        request_id=rid, source="demo", external_id="doc-1", channel="letter",
        subject="Courrier", body="Voir les pièces jointes.",
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        documents=[f.ref(rid, i) for i, f in enumerate(files)],
    ).model_copy(update=change)  # fmt: skip


def test_extracted_pages_become_attachments_within_the_cap() -> None:
    event = _event()
    pdf, png = event.documents
    results: dict[str, Extracted | str] = {
        pdf.document_id: Extracted(["a" * 30, "b" * 30]),
        png.document_id: "no_text",
    }
    out = with_text(event, results, max_chars=45)
    assert [(a.name, a.page, len(a.text)) for a in out.attachments] == [
        ("lettre.pdf", 1, 30), ("lettre.pdf", 2, 15)
    ]  # fmt: skip
    assert [(r.status, r.problem, r.pages) for r in out.documents] == [
        (DocumentStatus.extracted, None, 2), (DocumentStatus.unreadable, "no_text", None)
    ]  # fmt: skip
    assert out.unreadable_documents() == [out.documents[1]]


def test_unreadable_document_flags_the_item_and_the_model_reads_every_file() -> None:
    pdf, png = _event().documents
    event = with_text(
        _event(), {pdf.document_id: Extracted(["le gaz " * 400]), png.document_id: "corrupt"}, 10**6
    )
    model = FakeModel()
    classifier = Classifier(model, CueLexicon.load(), FakeDetector(), window_words=60)
    (result,) = classifier.classify([event])
    assert result.classification.needs_review
    assert result.classification.review_reasons == [UNREADABLE_REASON]
    # the whole text for TF-IDF, its opening (body first, then the file) for the embedder
    assert "le gaz " * 400 in model.seen[0]
    assert model.windows[0].startswith("Courrier\n\nVoir les pièces jointes.\n\nle gaz")
    assert len(model.windows[0].split()) <= 60


class _Store:
    def __init__(self, documents: list[StoredDocument]) -> None:
        self.documents = documents
        self.marked: list[DocumentRef] = []

    async def request_documents(self, request_id: str) -> list[StoredDocument]:
        return self.documents

    async def mark(self, refs: list[DocumentRef]) -> None:
        self.marked = refs


class _Pool:
    timeout_s = 60.0

    async def extract(
        self, content_type: str, data: bytes, limits: Limits, timeout_s: float | None = None
    ) -> Extracted | str:
        return extract(content_type, data, limits) if data != b"bad" else "corrupt"


async def test_the_stage_marks_publishes_and_counts() -> None:
    event = _event()
    pdf, png = event.documents
    store = _Store([StoredDocument(pdf.document_id, pdf.name, PDF, d.text_pdf([d.FR_LETTER])),
                    StoredDocument(png.document_id, png.name, "image/png", b"bad")])  # fmt: skip
    published: list[RequestReceived] = []

    async def publish(e: RequestReceived) -> None:
        published.append(e)

    registry = CollectorRegistry()
    stage = Extractor(store, _Pool(), LIMITS, 10_000, publish, ExtractionMetrics(registry))  # type: ignore[arg-type]
    await stage.process([Consumed(event, "t", 0, 0, None)])
    (out,) = published
    assert [r.status for r in out.documents] == [
        DocumentStatus.extracted,
        DocumentStatus.unreadable,
    ]
    assert store.marked == out.documents
    assert "couper le gaz" in out.attachments[0].text and out.attachments[0].page == 1
    sample = registry.get_sample_value
    assert sample("triage_extraction_documents_total", {"outcome": "extracted"}) == 1
    assert sample("triage_extraction_documents_total", {"outcome": "corrupt"}) == 1
