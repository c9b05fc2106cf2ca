"""Sentence splitting for FR/NL/EN letters and extracted text."""

from __future__ import annotations

import pytest

from services.classifier.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Je vous écris au sujet de M. Dupont. Il doit 1.250 € depuis le 3 mars !",
            ["Je vous écris au sujet de M. Dupont.", "Il doit 1.250 € depuis le 3 mars !"],
        ),
        (
            "Dhr. J. Peeters belde gisteren. Hij vraagt bijv. een voorschot. Kan dat?",
            ["Dhr. J. Peeters belde gisteren.", "Hij vraagt bijv. een voorschot.", "Kan dat?"],
        ),
        (
            "See e.g. the AVIQ letter. It was sent on 2 May. \u00abReply soon.\u00bb",
            ["See e.g. the AVIQ letter.", "It was sent on 2 May.", "\u00abReply soon.\u00bb"],
        ),
        ("Voir art. 5 du règlement.", ["Voir art. 5 du règlement."]),
    ],
)
def test_sentences_end_at_punctuation_but_not_after_abbreviations(
    text: str, expected: list[str]
) -> None:
    assert split_sentences(text) == expected


def test_lines_of_a_letter_stay_apart_and_wrapped_lines_are_joined() -> None:
    text = (
        "Madame, Monsieur,\n\n"
        "Le propriétaire a envoyé une mise en demeure qui nous oblige à quitter\n"
        "le logement avant la fin du mois. Nous demandons une aide.\n"
        "- la lettre du propriétaire\n"
        "- les extraits de compte\r\n\r\n"
        "Bien à vous,\nSophie"
    )
    assert split_sentences(text) == [
        "Madame, Monsieur,",
        "Le propriétaire a envoyé une mise en demeure qui nous oblige à quitter "
        "le logement avant la fin du mois.",
        "Nous demandons une aide.",
        "- la lettre du propriétaire",
        "- les extraits de compte",
        "Bien à vous,",
        "Sophie",
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("  \n\n ") == []
