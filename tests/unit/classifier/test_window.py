"""The embedder's window of a long request: first part plus later key points."""

from __future__ import annotations

from datetime import UTC, datetime

from services.classifier.cues import CueLexicon
from services.classifier.keypoints import KeyPointer, Params
from services.classifier.pipeline import Classifier
from services.classifier.window import first_words, model_window
from shared.events import KeyPoint, RequestReceived
from testing.hashing import HashingEmbedder
from tests.unit.classifier.test_pipeline import FakeDetector, FakeModel

LATE = "La coupure de gaz est prévue le 8 janvier pour une dette de 1.480 €."


def _long(words: int) -> str:
    filler = "Je vous écris pour vous expliquer ma situation familiale en détail. "
    return (filler * (words // 10 + 1)).strip() + " " + LATE


def test_short_text_is_read_whole() -> None:
    assert model_window("Sibelga coupe demain.", [KeyPoint(text="x")], 300) == (
        "Sibelga coupe demain."
    )


def test_long_text_keeps_its_first_part_and_adds_the_later_key_points() -> None:
    text = _long(1000)
    points = [KeyPoint(text="Je vous écris pour vous expliquer ma situation."), KeyPoint(text=LATE)]
    window = model_window(text, points, 300)
    assert window.startswith(first_words(text, 100))
    assert window.endswith(LATE) and LATE not in first_words(text, 300)
    assert len(window.split()) <= 300 + len(LATE.split())


def test_without_key_points_a_long_text_is_its_first_words() -> None:
    assert model_window(_long(1000), [], 300) == first_words(_long(1000), 300)
    assert first_words("a b\n\nc d", 3) == "a b\n\nc" and first_words("a", 0) == ""


def test_the_model_reads_the_whole_text_and_the_embedder_the_window() -> None:
    model = FakeModel()
    pointer = KeyPointer(HashingEmbedder().encode, Params())
    classifier = Classifier(model, CueLexicon.load(), FakeDetector(), pointer, window_words=120)
    event = RequestReceived(
        request_id="r-1", source="demo", external_id="e-1", channel="letter",
        subject="Coupure", body=_long(600), received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    [result] = classifier.classify([event])
    assert model.seen == [event.full_text()]
    [window] = model.windows
    assert len(window.split()) < 250 and LATE in window
    assert LATE in {p.text for p in result.key_points}


def test_a_shadow_model_reads_what_the_served_model_read() -> None:
    pointer = KeyPointer(HashingEmbedder().encode, Params())
    classifier = Classifier(
        FakeModel(), CueLexicon.load(), FakeDetector(), pointer, window_words=120
    )
    event = RequestReceived(
        request_id="r-1", source="demo", external_id="e-1", channel="letter",
        subject="Coupure", body=_long(600), received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    served = classifier.model
    results = classifier.classify([event])
    shadow = FakeModel()
    classifier.agreement(shadow, [event], results)
    assert shadow.seen == served.seen and shadow.windows == served.windows  # type: ignore[attr-defined]
