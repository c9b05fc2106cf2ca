"""Key points in the classification pipeline: masked, located, only for long requests."""

from __future__ import annotations

from datetime import UTC, datetime

from services.classifier.cues import CueLexicon
from services.classifier.keypoints import KeyPointer, Params
from services.classifier.pipeline import Classifier
from shared.events import Attachment, RequestClassified, RequestReceived, decode, encode
from testing.hashing import HashingEmbedder
from tests.unit.classifier.test_pipeline import FakeDetector, FakeModel

BODY = (
    "Madame, Monsieur,\n\n"
    "Je vous écris pour ma voisine, Madame Lambert, qui vit seule et ne sort plus de chez elle. "
    "Elle demande une aide urgente car Sibelga va couper son électricité le 14 janvier. "
    "Sa facture impayée s'élève à 640 €, à verser sur le compte BE68 5390 0754 7034. "
    "Vous pouvez me joindre au 0470 12 34 56 pour convenir d'une visite à domicile. "
    "Je vous remercie d'avance pour votre aide.\n\nBien à vous,\nJan"
)
REPORT = (
    "La patiente souffre d'une bronchopneumopathie chronique et dépend d'un concentrateur "
    "d'oxygène électrique jour et nuit. "
    "Une coupure de courant mettrait sa vie en danger dans les heures qui suivent. "
    "Elle ne peut pas se déplacer seule jusqu'aux bureaux du CPAS pour ses démarches."
)


def _event(body: str, attachments: list[Attachment]) -> RequestReceived:
    return RequestReceived(
        request_id="r-1", source="demo", external_id="e-1", channel="email",
        subject="Coupure d'électricité", body=body, attachments=attachments,
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip


def _classifier() -> Classifier:
    pointer = KeyPointer(HashingEmbedder().encode, Params(min_words=80, max_points=7))
    return Classifier(FakeModel(), CueLexicon.load(), FakeDetector(), pointer)


def test_long_request_gets_masked_located_key_points() -> None:
    event = _event(BODY, [Attachment(name="certificat.pdf", text=REPORT, page=2)])
    [result] = _classifier().classify([event])
    assert 3 <= len(result.key_points) <= 7
    texts = " ".join(p.text for p in result.key_points)
    assert "BE68" not in texts and "0470" not in texts
    for point in result.key_points:
        assert (point.source, point.page) in {("body", None), ("certificat.pdf", 2)}
    assert {p.source for p in result.key_points} == {"body", "certificat.pdf"}
    decoded = decode(encode(result), result.event_type)
    assert isinstance(decoded, RequestClassified) and decoded.key_points == result.key_points


def test_short_request_and_classifier_without_key_points_give_none() -> None:
    [short] = _classifier().classify([_event("Sibelga coupe le courant demain.", [])])
    assert short.key_points == []
    plain = Classifier(FakeModel(), CueLexicon.load(), FakeDetector())
    [long] = plain.classify([_event(BODY + REPORT, [])])
    assert long.key_points == []
