"""Key points: pure selection over a fake (hashing) embedder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from services.classifier.keypoints import (
    ANCHORS,
    KeyPointer,
    Params,
    Segment,
    Sentence,
    Weights,
    lexical_scores,
    plan,
    point_count,
)
from services.classifier.sentences import split_sentences
from testing.hashing import HashingEmbedder

LETTER = (
    "Madame, Monsieur,\n\n"
    "Je m'appelle Sophie et j'habite à Charleroi avec mes deux enfants depuis huit ans. "
    "Mon propriétaire m'a écrit le 2 mars que je dois quitter l'appartement avant le "
    "30 avril si je ne paie pas les 1.800 € d'arriérés de loyer. "
    "J'ai perdu mon travail en décembre et mes allocations de chômage ne sont pas encore payées. "
    "Je demande une aide financière urgente pour payer ces arriérés de loyer et éviter "
    "l'expulsion. "
    "Mes enfants vont à l'école dans le quartier et aiment beaucoup leurs professeurs. "
    "Ma mère m'aide un peu mais elle a une petite pension et habite loin de chez nous. "
    "Le syndicat dit que le paiement du chômage arrivera dans six semaines environ. "
    "Je peux fournir la lettre du propriétaire, mes fiches de paie et mes extraits de compte. "
    "Je vous remercie d'avance pour votre aide et je reste à votre disposition.\n\n"
    "Bien à vous,\nSophie"
)
REPORT = (
    "Le patient présente une insuffisance cardiaque qui limite fortement ses déplacements. "
    "Une aide à domicile de quatre heures par semaine est recommandée pour les courses. "
    "Le traitement actuel comprend trois médicaments pris matin et soir sans interruption. "
    "Une réévaluation est prévue dans six mois par le médecin traitant du patient."
)


class CountingEmbedder:
    """The hashing embedder, recording each call's texts."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        return self.inner.encode(texts)


def _points(subject: str, segments: list[Segment], max_chars: int = 300) -> list[str]:
    pointer = KeyPointer(CountingEmbedder(), Params(min_words=60, max_chars=max_chars))
    return [p.text for p in pointer.extract_many([(subject, segments)])[0]]


def test_short_requests_get_no_key_points() -> None:
    pointer = KeyPointer(CountingEmbedder(), Params())  # default: above 150 words
    assert pointer.extract_many([("Loyer", [Segment(REPORT)])]) == [[]]


def test_long_request_gets_sentences_of_its_own_in_text_order() -> None:
    points = _points("Aide urgente loyer", [Segment(LETTER)])
    sentences = split_sentences(LETTER)
    assert 3 <= len(points) <= 7
    assert all(p in sentences for p in points)
    assert [sentences.index(p) for p in points] == sorted(sentences.index(p) for p in points)


def test_the_request_and_its_deadline_are_chosen_courtesy_and_signature_are_not() -> None:
    points = _points("Aide urgente loyer", [Segment(LETTER)])
    assert any(p.startswith("Je demande une aide financière urgente") for p in points)
    assert any("avant le 30 avril" in p for p in points)
    assert not any("remercie" in p or p in {"Sophie", "Bien à vous,"} for p in points)


def test_each_point_says_where_it_comes_from() -> None:
    pointer = KeyPointer(CountingEmbedder(), Params(min_words=60, max_points=7, candidates=25))
    segments = [Segment(LETTER), Segment(REPORT, source="rapport.pdf", page=2)]
    points = pointer.extract_many([("Aide", segments)])[0]
    for point in points:
        expected = ("rapport.pdf", 2) if point.text in REPORT else ("body", None)
        assert (point.source, point.page) == expected
    assert {p.source for p in points} == {"body", "rapport.pdf"}


def test_a_repeated_sentence_is_not_chosen_twice() -> None:
    repeated = LETTER.replace(
        "Bien à vous",
        "Je demande une aide financière urgente pour "
        "payer ces arriérés de loyer et éviter l'expulsion.\n\nBien à vous",
    )
    points = _points("Aide urgente loyer", [Segment(repeated)])
    assert len(points) == len(set(points))


def test_one_embedder_call_per_batch_bounded_by_the_candidates() -> None:
    embed = CountingEmbedder()
    pointer = KeyPointer(embed, Params(min_words=60, candidates=9))
    long_text = " ".join([LETTER, REPORT] * 10)
    results = pointer.extract_many(
        [("Loyer", [Segment(long_text)]), ("", [Segment("Trop court.")]), ("", [Segment(LETTER)])]
    )
    assert len(embed.calls) == 1
    # candidates + subject for the two long ones, and the anchors the first time
    assert len(embed.calls[0]) <= 9 + 1 + 9 + len(ANCHORS)
    assert embed.calls[0][-len(ANCHORS) :] == list(ANCHORS)
    assert [len(r) for r in results][1] == 0
    assert all(3 <= len(r) <= 7 for r in (results[0], results[2]))
    pointer.extract_many([("Loyer", [Segment(long_text)])])
    assert len(embed.calls) == 2 and not set(ANCHORS) & set(embed.calls[1])


def test_a_sentence_close_to_an_anchor_wins_over_an_equal_one() -> None:
    """Two sentences the lexical score cannot tell apart: the anchor decides."""
    first, second = "Alpha beta gamma delta epsilon.", "Zeta eta theta iota kappa."
    filler = [
        "Lambda mu nu xi omicron.",
        "Rho sigma tau upsilon phi.",
        "Chi psi omega aleph beth.",
        "Gimel dalet hey vav zayin.",
    ]
    basis = {first: 0, second: 1, "anchor": 1}

    def embed(texts: list[str]) -> npt.NDArray[np.float32]:
        out = np.full((len(texts), 8), 0.1, dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, basis.get(text, 2 + row % 6)] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    pointer = KeyPointer(embed, Params(min_words=10, min_points=1, max_points=1), ["anchor"])
    [[point]] = pointer.extract_many([("", [Segment(" ".join([first, second, *filler]))])])
    assert point.text == second


def test_a_batch_of_only_short_requests_embeds_nothing() -> None:
    embed = CountingEmbedder()
    assert KeyPointer(embed, Params()).extract_many([("a", [Segment("b c")])]) == [[]]
    assert embed.calls == []


def test_the_embedder_reads_the_first_words_of_each_candidate() -> None:
    embed = CountingEmbedder()
    pointer = KeyPointer(embed, Params(min_words=60, max_points=3, embed_words=4), [])
    pointer.extract_many([("Aide urgente loyer", [Segment(LETTER)])])
    [texts] = embed.calls
    assert texts[-1] == "Aide urgente loyer"  # the subject, whole
    assert all(len(t.split()) <= 4 for t in texts[:-1])
    assert "Je demande une aide" in texts


def test_no_embedding_when_every_candidate_becomes_a_point() -> None:
    embed = CountingEmbedder()
    text = " ".join([REPORT, "Le patient vit seul au troisième étage sans ascenseur."] * 10)
    points = KeyPointer(embed, Params(min_words=60, max_points=7, candidates=7)).extract_many(
        [("Aide", [Segment(text)])]
    )[0]
    assert embed.calls == []
    assert [p.text for p in points] == list(dict.fromkeys(split_sentences(text)))


def test_cue_words_and_courtesy_match_whatever_the_case() -> None:
    sentences = [
        Sentence("JE DEMANDE UNE AIDE avant le 30 avril.", "body", None),
        Sentence("je demande une aide avant le 30 avril.", "body", None),
        Sentence("Je Vous Remercie pour votre lettre reçue hier.", "body", None),
        Sentence("je vous remercie pour votre lettre reçue hier.", "body", None),
    ]
    scores = lexical_scores("", sentences, Weights())
    assert scores[0] == pytest.approx(scores[1]) and scores[2] == pytest.approx(scores[3])
    assert scores[0] > scores[2]


def test_long_sentences_are_cut_to_the_limit() -> None:
    long_sentence = "Je demande une aide " + "très " * 200 + "urgente pour mon loyer."
    text = " ".join([long_sentence, REPORT, LETTER])
    points = _points("Aide", [Segment(text)], max_chars=80)
    assert all(len(p) <= 80 for p in points)
    assert any(p.endswith("…") for p in points)


@pytest.mark.parametrize(("words", "expected"), [(151, 3), (420, 4), (520, 5), (2000, 7)])
def test_the_number_of_points_grows_with_the_length(words: int, expected: int) -> None:
    assert point_count(words, Params()) == expected


def test_plan_is_none_when_no_sentence_is_long_enough() -> None:
    assert plan("", [Segment("Oui. Non. " * 100)], Params(min_words=10)) is None


@pytest.mark.parametrize(
    "params",
    [
        {"min_points": 0},
        {"max_points": 8},
        {"candidates": 2},
        {"max_chars": 1000},
        {"embed_words": 0},
    ],
)
def test_invalid_params_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(Params(), **params)
