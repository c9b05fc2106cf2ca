"""Tests for the urgency cue lexicon (services/classifier/cues.py + urgency_cues.yaml)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.classifier.cues import (
    Cue,
    CueLexicon,
    CueMatch,
    LexiconError,
    fold,
    raise_urgency,
    term_pattern,
)
from shared.events import Urgency


@pytest.fixture(scope="module")
def lexicon() -> CueLexicon:
    return CueLexicon.load()


def cue_ids(lexicon: CueLexicon, text: str) -> list[str]:
    return [m.cue_id for m in lexicon.find(text)]


# --- the packaged lexicon -----------------------------------------------------


def test_packaged_lexicon_covers_the_required_situations(lexicon: CueLexicon) -> None:
    ids = {cue.id for cue in lexicon.cues}
    assert {
        "energy_cutoff",
        "water_cutoff",
        "eviction",
        "homelessness",
        "no_food",
        "violence",
        "suicide_risk",
        "medical_emergency",
        "court_hearing",
        "bailiff",
        "deadline_days",
    } <= ids
    assert all(cue.level in ("critical", "high") for cue in lexicon.cues)


@pytest.mark.parametrize(
    ("text", "cue", "level"),
    [
        # energy / water
        ("Ils vont procéder à la coupure de gaz lundi.", "energy_cutoff", "critical"),
        ("On m'a installé un compteur à budget.", "energy_cutoff", "critical"),
        ("Nous n'avons plus de chauffage depuis une semaine.", "energy_cutoff", "critical"),
        ("Ik kreeg een brief over de afsluiting van mijn energie.", "energy_cutoff", "critical"),
        ("Sinds gisteren is de elektriciteit afgesloten.", "energy_cutoff", "critical"),
        ("They will cut off the electricity.", "energy_cutoff", "critical"),
        ("We have no heating at all.", "energy_cutoff", "critical"),
        ("Il y a une coupure d'eau chez nous.", "water_cutoff", "critical"),
        ("We hebben geen water meer.", "water_cutoff", "critical"),
        # housing
        ("J'ai reçu un avis d'expulsion.", "eviction", "critical"),
        ("Er dreigt een uithuiszetting.", "eviction", "critical"),
        ("We received an eviction notice.", "eviction", "critical"),
        ("Je suis sans-abri depuis mars.", "homelessness", "critical"),
        ("Je me retrouve à la rue avec mes enfants.", "homelessness", "critical"),
        ("Ik ben dakloos.", "homelessness", "critical"),
        ("Ik slaap nu op straat.", "homelessness", "critical"),
        ("I am homeless since May.", "homelessness", "critical"),
        # food, violence, suicide, health
        ("Nous n'avons plus rien à manger.", "no_food", "critical"),
        ("We hebben geen eten meer.", "no_food", "critical"),
        ("There is nothing to eat at home.", "no_food", "critical"),
        ("Je subis des violences conjugales.", "violence", "critical"),
        ("Er is sprake van huiselijk geweld.", "violence", "critical"),
        ("She is a victim of domestic violence.", "violence", "critical"),
        ("Il parle de suicide.", "suicide_risk", "critical"),
        ("Je veux en finir.", "suicide_risk", "critical"),
        ("Hij denkt aan zelfmoord.", "suicide_risk", "critical"),
        ("I want to end my life.", "suicide_risk", "critical"),
        ("C'est une urgence médicale.", "medical_emergency", "critical"),
        ("Mijn man ligt op de spoed.", "medical_emergency", "critical"),
        ("My son was hospitalised yesterday.", "medical_emergency", "critical"),
        ("Het is dringend, met spoed graag.", "emergency_generic", "high"),
        # deadlines within days
        ("L'audience est fixée au 3 avril.", "court_hearing", "high"),
        ("De zitting is volgende week.", "court_hearing", "high"),
        ("The hearing is next week.", "court_hearing", "high"),
        ("L'huissier est passé ce matin.", "bailiff", "high"),
        ("De deurwaarder komt langs.", "bailiff", "high"),
        ("A bailiff came to the door.", "bailiff", "high"),
        ("Demain, je dois quitter mon appartement.", "deadline_days", "high"),
        ("Het moet morgen in orde zijn.", "deadline_days", "high"),
        ("I need an answer by tomorrow.", "deadline_days", "high"),
        ("Je dois payer cette semaine.", "deadline_days", "high"),
        ("Het moet deze week betaald zijn.", "deadline_days", "high"),
        ("It must be paid this week.", "deadline_days", "high"),
    ],
)
def test_cue_found(lexicon: CueLexicon, text: str, cue: str, level: str) -> None:
    matches = [m for m in lexicon.find(text) if m.cue_id == cue]
    assert matches, f"{cue} not found"
    assert matches[0].level == level


@pytest.mark.parametrize(
    "text",
    [
        "Je voudrais un renseignement sur les allocations familiales.",
        "Goedemorgen, ik heb een vraag over mijn pensioen.",
        "Ik werk 's morgens, kunt u mij 's middags bellen?",  # morgens != morgen
        "La réexpulsionnaire n'existe pas.",
        "I would like to change my address, thank you.",
    ],
)
def test_no_cue(lexicon: CueLexicon, text: str) -> None:
    assert lexicon.find(text) == []


def test_whole_word_only(lexicon: CueLexicon) -> None:
    assert cue_ids(lexicon, "réexpulsion") == []
    assert cue_ids(lexicon, "expulsions") == ["eviction"]  # plural listed via (s)
    assert cue_ids(lexicon, "(expulsion)") == ["eviction"]
    assert cue_ids(lexicon, "demain-soir") == ["deadline_days"]


def test_case_and_accent_insensitive(lexicon: CueLexicon) -> None:
    for text in ["ÉLECTRICITÉ COUPÉE", "electricite coupee", "Électricité   coupée"]:
        assert cue_ids(lexicon, text) == ["energy_cutoff"], text


def test_spacing_hyphen_and_apostrophe_variants(lexicon: CueLexicon) -> None:
    assert cue_ids(lexicon, "sans abri") == ["homelessness"]
    assert cue_ids(lexicon, "sans -\n abri") == ["homelessness"]
    assert cue_ids(lexicon, "coupure d’électricité") == ["energy_cutoff"]
    assert cue_ids(lexicon, "coupure d' electricite") == ["energy_cutoff"]


def test_longest_term_wins(lexicon: CueLexicon) -> None:
    [match] = lexicon.find("C'est une urgence médicale")
    assert (match.cue_id, match.level) == ("medical_emergency", "critical")
    [match] = lexicon.find("C'est une urgence")
    assert (match.cue_id, match.level) == ("emergency_generic", "high")


def test_offsets_point_into_the_original_text(lexicon: CueLexicon) -> None:
    decomposed = "Avis: e\u0301lectricite\u0301 coupe\u0301e, ﬁn. Straße expulsion"
    matches = lexicon.find(decomposed)
    assert [m.cue_id for m in matches] == ["energy_cutoff", "eviction"]
    assert decomposed[matches[0].start : matches[0].end] == "e\u0301lectricite\u0301 coupe\u0301e"
    assert decomposed[matches[1].start : matches[1].end] == "expulsion"


def test_match_fields(lexicon: CueLexicon) -> None:
    [match] = lexicon.find("Risque d'expulsions")
    assert isinstance(match, CueMatch)
    assert match.term == "expulsion(s)"
    assert match.cue == match.cue_id == "eviction"  # .cue as in shared.events.CueHit
    assert "Risque d'expulsions"[match.start : match.end] == "expulsions"


# --- snippets -------------------------------------------------------------------


def test_snippet_masks_pii_and_collapses_whitespace(lexicon: CueLexicon) -> None:
    text = "Mon NISS 85.07.30-033.28,\n\n  expulsion   demain.\tTel 0470 12 34 56"
    snippets = [m.snippet for m in lexicon.find(text)]
    assert snippets
    for snippet in snippets:
        assert not re.search(r"[0-9]{2}", snippet)
        assert "\n" not in snippet and "  " not in snippet and "\t" not in snippet
    assert "[NISS]" in snippets[0] and "[PHONE]" in snippets[0]


def test_snippet_is_bounded_and_never_cuts_an_identifier(lexicon: CueLexicon) -> None:
    filler = "mot " * 30
    text = f"{filler}0470 12 34 56 ici expulsion ici 85.07.30-033.28 {filler}"
    [match] = lexicon.find(text)
    assert match.snippet.startswith("…") and match.snippet.endswith("…")
    assert "[PHONE]" in match.snippet and "[NISS]" in match.snippet
    assert not re.search(r"[0-9]", match.snippet)
    assert len(match.snippet) <= 2 * 40 + len("expulsion") + 2 + 2 * len("[PHONE]")


# --- raise_urgency ----------------------------------------------------------------


def _match(level: str) -> CueMatch:
    return CueMatch("x", level, 0, 1, "x", "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "levels", "expected"),
    [
        ("low", [], "low"),
        ("low", ["high"], "high"),
        ("normal", ["high", "critical"], "critical"),
        ("critical", ["high"], "critical"),  # never lowered
        ("high", ["high"], "high"),
    ],
)
def test_raise_urgency(model: str, levels: list[str], expected: str) -> None:
    assert raise_urgency(model, [_match(lv) for lv in levels]) == expected


def test_raise_urgency_accepts_enum_and_rejects_unknown() -> None:
    assert raise_urgency(Urgency.normal, [_match("high")]) == "high"
    with pytest.raises(ValueError, match="unknown urgency"):
        raise_urgency("urgent", [])


_ORDER = ["low", "normal", "high", "critical"]


@given(st.sampled_from(_ORDER), st.lists(st.sampled_from(["critical", "high"]), max_size=4))
def test_raise_urgency_never_lowers(model: str, levels: list[str]) -> None:
    result = raise_urgency(model, [_match(lv) for lv in levels])
    assert _ORDER.index(result) >= _ORDER.index(model)
    assert all(_ORDER.index(result) >= _ORDER.index(lv) for lv in levels)


# --- term syntax and validation ----------------------------------------------------


def test_term_syntax() -> None:
    optional = re.compile(term_pattern("coupé(e|s|es) le gaz"))
    assert all(optional.fullmatch(fold(t)) for t in ["coupé le gaz", "coupées le gaz"])
    required = re.compile(term_pattern("{gas|power} cut off"))
    assert required.fullmatch("power cut off") and not required.fullmatch(" cut off")
    assert re.compile(term_pattern("(la )rue")).fullmatch("rue")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cues.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("cues:\n  - {id: a, level: urgent, terms: {fr: [x]}}\n", "unknown level 'urgent'"),
        ("cues:\n  - {id: a, level: high, terms: {fr: []}}\n", "non-empty list"),
        ("cues:\n  - {id: a, level: high, terms: {}}\n", "non-empty mapping"),
        (
            "cues:\n  - {id: a, level: high, terms: {fr: [x]}}\n"
            "  - {id: a, level: high, terms: {fr: [y]}}\n",
            "duplicate id",
        ),
        (
            "cues:\n  - {id: a, level: high, terms: {fr: [Maison]}}\n"
            "  - {id: b, level: high, terms: {nl: [maison]}}\n",
            "also in 'a'",
        ),
        ("cues:\n  - {id: a, level: high, terms: {xx: [x]}}\n", "unknown language 'xx'"),
        ("cues:\n  - {id: A-1, level: high, terms: {fr: [x]}}\n", "snake_case"),
        ("cues:\n  - {id: a, level: high, terms: {fr: ['a (b']}}\n", "unbalanced"),
        ("cues:\n  - {id: a, level: high, terms: {fr: ['(s)']}}\n", "empty text"),
        ("cues:\n  - id: a\n    level: high\n    terms:\n      fr:\n        - {a|b}\n", "quote"),
        ("cues: []\n", "'cues' is empty"),
        ("nope: 1\n", "'cues' list"),
        ("cues: [\n", "invalid YAML"),
    ],
)
def test_validation_errors(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LexiconError, match=re.escape(message)):
        CueLexicon.load(_write(tmp_path, body))


def test_custom_lexicon(tmp_path: Path) -> None:
    path = _write(tmp_path, "cues:\n  - {id: flood, level: critical, terms: {en: [flood(ed)]}}\n")
    lexicon = CueLexicon.load(path)
    assert lexicon.cues == (Cue("flood", Urgency.critical, ("flood(ed)",)),)
    assert cue_ids(lexicon, "The cellar flooded.") == ["flood"]


# --- robustness and speed ------------------------------------------------------------


@given(text=st.text(max_size=300))
def test_find_never_fails(lexicon: CueLexicon, text: str) -> None:
    for match in lexicon.find(text):
        assert 0 <= match.start < match.end <= len(text)


def test_speed_2000_chars(lexicon: CueLexicon) -> None:
    sentence = "Je vous écris au sujet de ma demande d'allocation, sans réponse depuis un mois. "
    text = (sentence * 30)[:1950] + " expulsion demain"
    lexicon.find(text)
    runs = 50
    started = time.perf_counter()
    for _ in range(runs):
        lexicon.find(text)
    assert (time.perf_counter() - started) / runs < 0.05  # generous; typical ~0.3 ms
