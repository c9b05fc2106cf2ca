"""The promotion gate: a candidate may replace the active model only when it is not
worse beyond a set margin on the same held-out cases. Pure: no I/O.

The three numbers compared are type macro-F1, urgency macro-F1 and the recall of
the ``critical`` urgency (a missed emergency costs most). A number one of the two
models lacks (no urgency head, no critical case held out) is not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events import Urgency

CRITICAL = Urgency.critical.value
# name -> how to read it from an evaluation (``triage evaluate``'s JSON shape)
HEADLINES = ("type_macro_f1", "urgency_macro_f1", "critical_recall")


@dataclass(frozen=True)
class Margins:
    type_macro_f1: float = 0.02
    urgency_macro_f1: float = 0.02
    critical_recall: float = 0.0

    def of(self, name: str) -> float:
        value: float = getattr(self, name)
        return value


def headline(evaluation: dict[str, Any]) -> dict[str, float | None]:
    """The gate's numbers from one model's evaluation on the held-out cases."""
    urgency = evaluation.get("urgency") or {}
    critical = (urgency.get("per_class") or {}).get(CRITICAL) or {}
    return {
        "type_macro_f1": (evaluation.get("type") or {}).get("macro_f1"),
        "urgency_macro_f1": urgency.get("macro_f1"),
        # recall means nothing when no held-out case is critical
        "critical_recall": critical.get("recall") if critical.get("support") else None,
    }


@dataclass(frozen=True)
class Check:
    name: str
    candidate: float
    active: float
    margin: float

    @property
    def passed(self) -> bool:
        # a tiny epsilon: equal scores computed twice must not fail on rounding
        return self.candidate >= self.active - self.margin - 1e-9

    def describe(self) -> str:
        verdict = "ok" if self.passed else "WORSE"
        return (
            f"{self.name:17s} candidate {self.candidate:.3f}  active {self.active:.3f}  "
            f"change {self.candidate - self.active:+.3f} (allowed -{self.margin:.3f})  {verdict}"
        )


@dataclass(frozen=True)
class Decision:
    checks: tuple[Check, ...]
    problems: tuple[str, ...] = ()  # reasons the comparison itself cannot be trusted

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.checks)

    def describe(self) -> str:
        lines = [c.describe() for c in self.checks] + list(self.problems)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "problems": list(self.problems),
            "checks": [
                {"name": c.name, "candidate": c.candidate, "active": c.active,
                 "margin": c.margin, "passed": c.passed}
                for c in self.checks
            ],
        }  # fmt: skip


def decide(
    holdout: dict[str, Any] | None, active_version: str | None, margins: Margins
) -> Decision:
    """The gate's decision from a candidate's held-out comparison (registry metrics).

    ``holdout``: {"rows", "active_version", "candidate": headline, "active": headline}.
    """
    if active_version is None:
        return Decision(())  # nothing in service: the first promotion has nothing to beat
    if not holdout or not holdout.get("rows"):
        return Decision((), ("no held-out human labels: the candidate was never compared",))
    if holdout.get("active_version") != active_version:
        return Decision(
            (),
            (
                f"compared with {holdout.get('active_version')}, but {active_version} is "
                "active now: run `triage retrain` again",
            ),
        )
    candidate, active = holdout["candidate"], holdout["active"]
    checks = tuple(
        Check(name, float(candidate[name]), float(active[name]), margins.of(name))
        for name in HEADLINES
        if candidate.get(name) is not None and active.get(name) is not None
    )
    return Decision(checks)
