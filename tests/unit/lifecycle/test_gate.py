"""The promotion gate and the held-out split: pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.lifecycle.gate import Margins, decide, headline
from triage.lifecycle.labels import Labelled, case_set, split_holdout

ACTIVE = "m-aaaaaaaaaaaaaaaa"


def numbers(type_f1: float, urgency_f1: float, critical: float | None) -> dict[str, float | None]:
    return {"type_macro_f1": type_f1, "urgency_macro_f1": urgency_f1, "critical_recall": critical}


def holdout(
    candidate: dict[str, float | None], active: dict[str, float | None]
) -> dict[str, object]:
    return {"rows": 40, "active_version": ACTIVE, "candidate": candidate, "active": active}


def test_a_candidate_within_the_margins_passes() -> None:
    decision = decide(
        holdout(numbers(0.81, 0.70, 0.9), numbers(0.82, 0.71, 0.9)), ACTIVE, Margins()
    )
    assert decision.passed and len(decision.checks) == 3
    assert "ok" in decision.describe() and "WORSE" not in decision.describe()


def test_each_number_worse_beyond_its_margin_refuses_with_the_numbers() -> None:
    active = numbers(0.82, 0.71, 0.90)
    for worse, name in (
        (numbers(0.79, 0.71, 0.90), "type_macro_f1"),
        (numbers(0.82, 0.68, 0.90), "urgency_macro_f1"),
        (numbers(0.82, 0.71, 0.85), "critical_recall"),
    ):
        decision = decide(holdout(worse, active), ACTIVE, Margins())
        assert not decision.passed
        [failed] = [c for c in decision.checks if not c.passed]
        assert failed.name == name
        assert f"active {failed.active:.3f}" in decision.describe()
        assert decision.to_dict()["passed"] is False


def test_missing_numbers_are_not_compared() -> None:
    decision = decide(holdout(numbers(0.8, 0.7, None), numbers(0.8, 0.7, 1.0)), ACTIVE, Margins())
    assert decision.passed and [c.name for c in decision.checks] == [
        "type_macro_f1",
        "urgency_macro_f1",
    ]


def test_no_comparison_or_a_stale_one_refuses_and_the_first_promotion_passes() -> None:
    assert not decide({"rows": 0}, ACTIVE, Margins()).passed
    stale = holdout(numbers(0.9, 0.9, 1.0), numbers(0.1, 0.1, 0.0))
    assert "is active now" in decide(stale, "m-bbbbbbbbbbbbbbbb", Margins()).describe()
    assert decide(None, None, Margins()).passed


def test_headline_reads_an_evaluation() -> None:
    evaluation = {
        "type": {"macro_f1": 0.8},
        "urgency": {"macro_f1": 0.6, "per_class": {"critical": {"recall": 0.5, "support": 4}}},
    }
    assert headline(evaluation) == numbers(0.8, 0.6, 0.5)
    evaluation["urgency"]["per_class"]["critical"]["support"] = 0  # type: ignore[index]
    assert headline(evaluation)["critical_recall"] is None


def _labels(n: int) -> list[Labelled]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Labelled(
            f"id-{i}", f"text {i}", "housing", "normal", "fr", "m-a", start + timedelta(hours=i)
        )
        for i in range(n)
    ]


def test_the_most_recent_labels_are_held_out() -> None:
    train, held = split_holdout(_labels(10), 0.3)
    assert [c.id for c in held] == ["id-7", "id-8", "id-9"]
    assert [c.id for c in train] == [f"id-{i}" for i in range(7)]
    assert split_holdout([], 0.3) == ([], [])
    assert len(split_holdout(_labels(1), 0.3)[1]) == 1


def test_case_set_fingerprints_its_content() -> None:
    one, other = case_set(_labels(3), "x"), case_set(_labels(4)[1:], "x")
    assert one.sha256 != other.sha256 and one.urgencies == ["normal"] * 3
