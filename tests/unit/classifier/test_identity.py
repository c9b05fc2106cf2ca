"""Keyed identifier hashes: one hash per identifier whatever its spelling, none in clear."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from services.classifier.cues import CueLexicon
from services.classifier.identity import identity_hash, identity_hashes, normalise
from services.classifier.model.predictor import Prediction
from services.classifier.pipeline import Classifier, RelatedConfig
from shared.events import MAX_IDENTITY_HASHES, RequestClassified, RequestReceived, decode, encode
from shared.pii import find
from shared.vectors import decode_vector, vector_bytes
from tests.unit.classifier.test_pipeline import FakeDetector, FakeModel

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("NISS", "85.07.30-033.28", "85073003328"),
        ("IBAN", "be68 5390 0754 7034", "BE68539007547034"),
        ("EMAIL", "Jan.Peeters@Example.be", "jan.peeters@example.be"),
        ("PHONE", "0470 12 34 56", "+32 470 12 34 56"),
        ("PHONE", "0032470123456", "+32470/12.34.56"),
    ],
)
def test_spellings_of_one_identifier_hash_alike(kind: str, a: str, b: str) -> None:
    assert normalise(kind, a) == normalise(kind, b)
    assert identity_hash(KEY, kind, a) == identity_hash(KEY, kind, b)


def test_hash_depends_on_key_and_kind_and_holds_no_identifier() -> None:
    h = identity_hash(KEY, "NISS", "85073003328")
    assert len(h) == 32 and int(h, 16) >= 0
    assert h != identity_hash(b"another key of 16+", "NISS", "85073003328")
    assert h != identity_hash(KEY, "PHONE", "85073003328")
    assert "85073003328" not in h


def test_hashes_are_distinct_and_bounded() -> None:
    text = " ".join(f"p{i}@example.be" for i in range(40)) + " P0@example.be"
    hashes = identity_hashes(KEY, text, find(text))
    assert len(hashes) == MAX_IDENTITY_HASHES == len(set(hashes))
    assert hashes[0] == identity_hash(KEY, "EMAIL", "p0@example.be")


class EmbeddingModel(FakeModel):
    def predict(self, texts: list[str], windows: list[str] | None = None) -> list[Prediction]:
        preds = super().predict(texts)
        vec = np.arange(1, 385, dtype=np.float32)
        return [type(p)(**{**p.__dict__, "embedding": vec}) for p in preds]


def test_classified_event_carries_hashes_and_vector_not_identifiers() -> None:
    body = "Mon NISS 85.07.30-033.28, mail jan.peeters@example.be, tel 0470 12 34 56."
    event = RequestReceived(
        request_id="r1", source="demo", external_id="x", channel="email", body=body,
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    related = RelatedConfig(identity_key=KEY, embedder="e5:abc:384")
    classifier = Classifier(EmbeddingModel(), CueLexicon.load(), FakeDetector(), related=related)
    [result] = classifier.classify([event])
    assert result.related is not None
    assert result.related.identity_hashes == [
        identity_hash(KEY, "NISS", "85073003328"),
        identity_hash(KEY, "EMAIL", "jan.peeters@example.be"),
        identity_hash(KEY, "PHONE", "+32470123456"),
    ]
    assert "85073003328" not in result.related.model_dump_json()
    vec = decode_vector(vector_bytes(result.related.embedding))
    assert vec.shape == (384,) and abs(float(np.linalg.norm(vec)) - 1) < 1e-3
    again = decode(encode(result), result.event_type)
    assert isinstance(again, RequestClassified) and again.related == result.related
    # the size this adds to the event, bounded (see shared/events.py)
    assert len(result.related.model_dump_json()) < 1700


def test_without_key_no_hashes_and_without_config_no_field() -> None:
    event = RequestReceived(
        request_id="r1", source="demo", external_id="x", channel="email",
        body="jan.peeters@example.be", received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    lexicon = CueLexicon.load()
    [keyless] = Classifier(FakeModel(), lexicon, FakeDetector(), related=RelatedConfig()).classify(
        [event]
    )
    assert keyless.related is not None and keyless.related.identity_hashes == []
    [plain] = Classifier(FakeModel(), lexicon, FakeDetector()).classify([event])
    assert plain.related is None
