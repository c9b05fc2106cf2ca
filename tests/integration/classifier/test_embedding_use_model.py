"""The USE multilingual backend with its bundled weights."""

from __future__ import annotations

import numpy as np
import pytest

from services.classifier.embedding import load_embedder
from services.classifier.embedding.base import Embedder

TRANSLATIONS = [
    [
        "Mon fournisseur a coupé l'électricité et le gaz chez moi hier, je n'ai plus de chauffage.",
        "Mijn leverancier heeft gisteren de elektriciteit en het gas afgesloten, ik heb geen "
        "verwarming meer.",
        "My supplier cut off the electricity and gas at my home yesterday, I have no heating.",
    ],
    [
        "Mon propriétaire veut m'expulser de l'appartement à la fin du mois pour des arriérés "
        "de loyer.",
        "Mijn huisbaas wil me eind deze maand uit het appartement zetten wegens huurachterstand.",
        "My landlord wants to evict me from the flat at the end of the month over rent arrears.",
    ],
    [
        "Je voudrais une copie de l'acte de naissance de ma fille pour son passeport.",
        "Ik wil graag een afschrift van de geboorteakte van mijn dochter voor haar paspoort.",
        "I would like a copy of my daughter's birth certificate for her passport.",
    ],
    [
        "Les poubelles de notre rue n'ont pas été ramassées depuis deux semaines.",
        "Het huisvuil in onze straat is al twee weken niet opgehaald.",
        "The rubbish in our street has not been collected for two weeks.",
    ],
]


@pytest.fixture(scope="module")
def use_embedder() -> Embedder:
    return load_embedder("use-multilingual")


def test_use_contract(use_embedder: Embedder) -> None:
    spec = use_embedder.spec
    assert (spec.backend, spec.dim) == ("use-multilingual", 512)
    assert len(spec.weights_sha256) == 64
    texts = [t for group in TRANSLATIONS for t in group]
    vectors = use_embedder.encode(texts, batch_size=5)
    assert vectors.shape == (12, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(use_embedder.encode(texts, batch_size=64), vectors, atol=1e-5)
    assert use_embedder.encode([]).shape == (0, 512)
    assert load_embedder("use-multilingual").spec == spec


def test_use_cross_lingual_nearest_neighbour_is_a_translation(use_embedder: Embedder) -> None:
    texts = [t for group in TRANSLATIONS for t in group]
    topics = [i for i, group in enumerate(TRANSLATIONS) for _ in group]
    vectors = use_embedder.encode(texts)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i, row in enumerate(sims):
        assert topics[int(np.argmax(row))] == topics[i], texts[i]
