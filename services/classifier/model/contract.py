"""The model's output in the event contract: ``Prediction`` -> ``shared.events.Classification``.

The one place where the predictor's fields meet the event's. The pipeline decides
the final urgency and the language, then hands everything to ``classification``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.classifier.model.predictor import Prediction
from shared.events import (
    MAX_CUE_HITS,
    MAX_SNIPPET_CHARS,
    URGENCY_ORDER,
    Classification,
    CueHit,
    Explanation,
    Neighbour,
    Scored,
    Urgency,
)

if TYPE_CHECKING:
    from services.classifier.cues import CueMatch


def explanation(pred: Prediction, cues: Sequence[CueMatch]) -> Explanation:
    """Why: the top types and urgencies, the cues found and the nearest training cases."""
    return Explanation(
        top_types=[Scored(label=s.label, probability=s.probability) for s in pred.top_types],
        top_urgencies=[
            Scored(label=s.label, probability=s.probability) for s in pred.top_urgencies
        ],
        cues=[CueHit(cue=c.cue, level=c.level, snippet=_bounded(c.snippet)) for c in kept(cues)],
        neighbours=[
            Neighbour(case_id=n.case_id, type=n.type, urgency=n.urgency, similarity=n.similarity)
            for n in pred.neighbours
        ],
    )


def kept(cues: Sequence[CueMatch]) -> list[CueMatch]:
    """The hits an explanation shows: the first of each cue, at most MAX_CUE_HITS, the
    most urgent kept when there are more, in text order.

    Bounded so that one text repeating a cue ("SDF " ten thousand times) makes an
    event of the usual size; the urgency is decided on every hit before this.
    """
    first: dict[str, CueMatch] = {}
    for match in cues:
        first.setdefault(match.cue, match)
    chosen = sorted(first.values(), key=lambda m: URGENCY_ORDER[m.level])[:MAX_CUE_HITS]
    return sorted(chosen, key=lambda m: m.start)


def _bounded(snippet: str) -> str:
    if len(snippet) <= MAX_SNIPPET_CHARS:
        return snippet
    return snippet[: MAX_SNIPPET_CHARS - 1] + "…"


def classification(
    pred: Prediction,
    *,
    urgency: Urgency,
    model_urgency: Urgency,
    cues: Sequence[CueMatch],
    language: tuple[str, float],
    model_version: str,
) -> Classification:
    """The event's classification of one request.

    ``model_urgency`` is the model's urgency (or the default), ``urgency`` the
    final one after the cues; ``language`` is (code, confidence).
    """
    return Classification(
        type=pred.type,
        type_confidence=pred.type_confidence,
        urgency=urgency,
        # A cue that raised the urgency is a rule, not an estimate: it is certain.
        urgency_confidence=pred.urgency_confidence if urgency == model_urgency else 1.0,
        model_urgency=model_urgency,
        language=language[0],
        language_confidence=language[1],
        needs_review=pred.needs_review,
        review_reasons=list(pred.review_reasons),
        model_version=model_version,
        explanation=explanation(pred, cues),
    )
