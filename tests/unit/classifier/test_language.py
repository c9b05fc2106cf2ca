"""Tests for offline language detection (lingua models ship inside the wheel)."""

from __future__ import annotations

import pytest

from services.classifier.language import UNKNOWN, LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()  # high-accuracy models: ~1-3 s once for the module


SENTENCES = {
    "fr": [
        "Bonjour, je voudrais savoir où en est ma demande d'allocations familiales.",
        "Mon propriétaire menace de me mettre à la porte si je ne paie pas le loyer.",
        "Pouvez-vous m'envoyer le formulaire pour le revenu d'intégration ?",
    ],
    "nl": [
        "Goedendag, ik wil graag weten hoe het staat met mijn aanvraag voor kinderbijslag.",
        "Mijn huisbaas dreigt mij uit huis te zetten als ik de huur niet betaal.",
        "Kunt u mij het formulier voor het leefloon opsturen?",
    ],
    "en": [
        "Hello, I would like to know the status of my application for child benefits.",
        "My landlord is threatening to evict me if I do not pay the rent.",
        "Could you send me the form for the social integration income?",
    ],
    "de": [
        "Guten Tag, ich möchte wissen, wie es um meinen Antrag auf Kindergeld steht.",
        "Mein Vermieter droht mir mit der Räumung, wenn ich die Miete nicht bezahle.",
        "Könnten Sie mir bitte das Formular für das Eingliederungseinkommen schicken?",
    ],
}
CASES = [(lang, text) for lang, texts in SENTENCES.items() for text in texts]


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_detects_real_sentences(detector: LanguageDetector, expected: str, text: str) -> None:
    language, confidence = detector.detect(text)
    assert language == expected
    assert 0.5 <= confidence <= 1.0


@pytest.mark.parametrize(
    "text", ["", "   \n ", "12345 678", "85.07.30-033.28 / 1.250,00 €", "ok", "!!"]
)
def test_unknown_without_enough_letters(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == (UNKNOWN, 0.0)


def test_unknown_below_min_confidence() -> None:
    strict = LanguageDetector(("fr", "nl", "en", "de"), min_confidence=0.999, low_accuracy=True)
    language, confidence = strict.detect("Dank u wel")
    assert language == UNKNOWN
    assert 0.0 < confidence < 0.999


def test_long_text_only_reads_the_start(detector: LanguageDetector) -> None:
    dutch = " ".join(SENTENCES["nl"]) + " "
    long_text = dutch * 20 + "Ceci est écrit en français. " * 200
    assert len(long_text) > 5 * detector.max_chars
    assert detector.detect(long_text)[0] == "nl"
    prepared = detector._prepare(long_text)
    assert prepared is not None and len(prepared) <= detector.max_chars


def test_pii_placeholders_are_ignored(detector: LanguageDetector) -> None:
    assert detector.detect("[PHONE] [EMAIL] [NISS] [IBAN]") == (UNKNOWN, 0.0)
    with_placeholders = "Kunt u mij bellen op [PHONE] of mailen naar [EMAIL]?"
    language, confidence = detector.detect(with_placeholders)
    plain_language, plain_confidence = detector.detect("Kunt u mij bellen op of mailen naar?")
    assert language == plain_language == "nl"
    assert confidence == pytest.approx(plain_confidence, abs=1e-6)


def test_detect_many_matches_detect(detector: LanguageDetector) -> None:
    texts = [text for _, text in CASES] + ["", "42", "x" * 3]
    batch = detector.detect_many(texts)
    assert len(batch) == len(texts)
    for text, (language, confidence) in zip(texts, batch, strict=True):
        single_language, single_confidence = detector.detect(text)
        assert language == single_language
        assert confidence == pytest.approx(single_confidence)


def test_detect_many_empty_batch(detector: LanguageDetector) -> None:
    assert detector.detect_many([]) == []
    assert detector.detect_many(["", "123"]) == [(UNKNOWN, 0.0), (UNKNOWN, 0.0)]


def test_codes_are_iso_639_1_lowercase(detector: LanguageDetector) -> None:
    language, _ = detector.detect(
        "Buongiorno, vorrei sapere lo stato della mia domanda di sussidio."
    )
    assert language == "it"
    assert all(code.islower() and len(code) == 2 for code in detector.languages)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"languages": ("fr", "xx")}, "unknown ISO 639-1"),
        ({"languages": ("fr",)}, "at least two"),
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"max_chars": 0}, "max_chars"),
    ],
)
def test_invalid_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LanguageDetector(low_accuracy=True, **kwargs)  # type: ignore[arg-type]
