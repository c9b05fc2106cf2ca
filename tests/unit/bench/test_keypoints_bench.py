"""The key points benchmark: its test set, its measures and its report (no model)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from benchmarks.keypoints.data import _unmark, load_cases
from benchmarks.keypoints.evaluate import lead, mean_recall, method, random_recall, recall
from benchmarks.keypoints.report import SECTION, markdown
from benchmarks.keypoints.timing import (
    lexical_cpu_ms,
    long_requests,
    masking_cpu_ms,
    percentile,
    previous_defaults,
    time_variants,
)
from services.classifier.keypoints import Params
from testing.hashing import HashingEmbedder


def test_the_test_set_has_30_long_requests_in_three_languages() -> None:
    cases = load_cases()
    assert len(cases) >= 30 and len({c.id for c in cases}) == len(cases)
    assert all(n >= 10 for n in Counter(c.language for c in cases).values())
    assert all(c.words > Params().min_words for c in cases)  # all would get key points
    assert all(1 <= len(c.essential) <= 5 for c in cases)


def test_a_marked_span_must_be_one_sentence() -> None:
    assert _unmark("A b c. [[D e f g h.]] I j.", "x") == ("A b c. D e f g h. I j.", ["D e f g h."])
    with pytest.raises(ValueError, match="not one sentence"):
        _unmark("[[One here. Two there.]]", "x")


def test_recall_counts_essential_sentences_found_a_cut_one_included() -> None:
    essential = ["Je demande une aide urgente pour le loyer.", "La coupure est prévue le 8 mai."]
    assert recall(["Je demande une aide…", "Autre chose ici."], essential) == 0.5
    assert recall(essential, essential) == 1.0 and recall([], essential) == 0.0


def test_with_a_weight_free_embedder_the_method_already_beats_both_baselines() -> None:
    cases, params = load_cases(), Params()
    ours = mean_recall(cases, method(HashingEmbedder().encode, params)(cases))
    assert ours > mean_recall(cases, lead(params)(cases))
    assert ours > random_recall(cases, params)


def test_timed_requests_have_exactly_2000_words() -> None:
    requests = long_requests(load_cases(), 4)
    assert [len(segments[0].text.split()) for _, segments in requests] == [2000] * 4
    assert percentile([float(v) for v in range(1, 101)], 0.95) == 95.0


def test_the_report_section() -> None:
    language = {"method": 0.7, "lead": 0.25, "random": 0.37}
    result: dict[str, Any] = {
        "k": 5, "cases": 32, "essential": 126, "by_language": {"fr": 11, "nl": 11, "en": 10},
        "embedder": "e5", "params": {"candidates": 8, "embed_words": 14, "mmr_lambda": 0.75},
        "recall": {
            **language, "no_mmr": 0.7, "ablations": {"lexical only": 0.67},
            "per_language": {lang: language for lang in ("fr", "nl", "en")},
        },
        "timing_2000_words": {"requests": 90, "p50_ms": 150.0, "p95_ms": 240.0, "max_ms": 400.0,
                              "cpu_p50_ms": 120.0, "cpu_p95_ms": 200.0},
        "timing_2000_words_every_sentence": {"requests": 3, "p50_ms": 900.0, "cpu_p50_ms": 800.0},
        "timing_2000_words_previous_defaults": {"requests": 90, "p50_ms": 600.0, "p95_ms": 700.0,
                                                "cpu_p50_ms": 300.0, "cpu_p95_ms": 350.0},
        "recall_previous_defaults": 0.69, "lexical_cpu_ms_2000_words": 8.0,
        "masking_cpu_ms_2000_words": 1.3,
        "machine": {"cpu": "x", "cores": 2, "load_average_1m_at_start": 1.0,
                    "load_average_1m_at_end": 1.5},
    }  # fmt: skip
    text = markdown(result)
    assert text.startswith(SECTION) and "70.0 %" in text and "p95 240 ms" in text
    assert "meets the goal" in text and "| lexical only | 67.0 % |" in text
    assert "**p95 200 ms**" in text and "only on a quiet machine" in text
    assert "p50 600 / p95 700 ms" in text and "69.0 % against 70.0 %" in text
    assert "first 14 words" in text and "takes\n8 ms" in text
    result["timing_2000_words"].update(p95_ms=2000.0, cpu_p95_ms=400.0)
    assert "misses the goal" in markdown(result) and "not shown to be met" in markdown(result)


def test_variants_are_timed_in_turn_on_the_same_requests() -> None:
    requests, params = long_requests(load_cases(), 3), Params()
    embed = HashingEmbedder().encode
    timed = time_variants(embed, {"now": params, "before": previous_defaults(params)}, requests, 2)
    assert set(timed) == {"now", "before"}
    assert all(t["requests"] == 6 and t["p95_ms"] <= t["max_ms"] for t in timed.values())
    assert previous_defaults(params).candidates == 10
    assert lexical_cpu_ms(params, requests) >= 0 and masking_cpu_ms(requests) >= 0
