"""The "Key points benchmark" section of docs/benchmarks.md, from ``bench-keypoints.json``."""

from __future__ import annotations

from typing import Any

SECTION = "## Key points benchmark"
GOAL_P95_MS = 300.0


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def _cpu_note(cpu_p95_ms: float) -> str:
    if cpu_p95_ms < GOAL_P95_MS:
        return (
            "With no other work on the machine no request would wait for a core, so the "
            "wall time would be at most that (inferred, not measured: the machine was "
            "never idle)."
        )
    return (
        "That is above the goal too, so the goal is not shown to be met even on an idle "
        "machine (CPU time itself grows when the cores are shared, so an idle run may "
        "be lower; it could not be measured). The cost is the embedder's: fewer "
        "candidates (`TRIAGE_CLASSIFIER_KEY_POINTS_CANDIDATES`, at least 7) lower it."
    )


def markdown(r: dict[str, Any]) -> str:
    rec, t, m = r["recall"], r["timing_2000_words"], r["machine"]
    every = r["timing_2000_words_every_sentence"]
    langs = " | ".join(
        f"{lang}: {_pct(v['method'])} / {_pct(v['lead'])} / {_pct(v['random'])}"
        for lang, v in rec["per_language"].items()
    )
    ablations = "\n".join(f"| {name} | {_pct(value)} |" for name, value in rec["ablations"].items())
    verdict = "meets" if t["p95_ms"] < GOAL_P95_MS else "misses"
    counts = ", ".join(f"{n} {lang}" for lang, n in r["by_language"].items())
    return f"""{SECTION}

`make bench-keypoints` (`python -m benchmarks.keypoints.run`, not a timed test).
Test set: `benchmarks/keypoints/requests_{{fr,nl,en}}.yaml`, {r["cases"]} long requests
({counts}; letters, reports and a medical report split over two PDF pages), written
for this benchmark in a CPAS/OCMW/AVIQ setting (fictional people), with the
{r["essential"]} sentences a caseworker would mark as essential (`[[...]]`, 1-5 per
request). Recall@{r["k"]}: the share of a request's essential sentences among the
{r["k"]} chosen, averaged over requests. Baselines choose among the same sentences
(5 words or more, so salutations are out for them too); random-5 is averaged
over 20 seeded draws. Embedder: `{r["embedder"]}` (the served model's).

| method | recall@{r["k"]} |
|---|---:|
| **key points (lexical + anchors/subject in e5 space + MMR)** | **{_pct(rec["method"])}** |
| lead-5 (first five sentences) | {_pct(rec["lead"])} |
| random-5 | {_pct(rec["random"])} |

Per language (method / lead-5 / random-5): {langs}.

What each signal is worth (the method with it removed, everything else unchanged;
the weights were chosen on these same {r["cases"]} requests, there is no held-out set,
so read differences of 2-3 points as noise — one sentence is about 0.8 point):

| variant | recall@{r["k"]} |
|---|---:|
{ablations}
| without MMR (λ = 1) | {_pct(rec["no_mmr"])} |

Lead-5 is below random here: the letters, like most letters to a social
service, open with who is writing and their background, and state the request,
the amount and the deadline further down. Two ideas were dropped because they
lowered recall on this set: centrality over the sentence vectors (e5's cosines
favour the sentences about the topic, not what must be acted on) and a bonus
for the opening sentences of each segment.

Speed: {t["requests"]} key-point extractions of 2,000-word requests (built from the
test set's letters, one language each; the service's defaults: {r["params"]["candidates"]}
sentences embedded per request, 7 points), timed end to end as the classifier runs them.
Wall time: p50 {t["p50_ms"]:.0f} ms, **p95 {t["p95_ms"]:.0f} ms**, max {t["max_ms"]:.0f} ms — this
{verdict} the goal p95 < {GOAL_P95_MS:.0f} ms. CPU time of the process (all its threads):
p50 {t["cpu_p50_ms"]:.0f} ms, **p95 {t["cpu_p95_ms"]:.0f} ms**. {_cpu_note(t["cpu_p95_ms"])}
Embedding every sentence instead of the shortlist: wall p50 {every["p50_ms"]:.0f} ms,
CPU p50 {every["cpu_p50_ms"]:.0f} ms over {every["requests"]} requests.
Machine: {m["cpu"]}, {m["cores"]} cores, shared with other jobs (1-minute load
average {m["load_average_1m_at_start"]} at the start, {m["load_average_1m_at_end"]} at the end:
with that load the wall times above measure mostly the wait for a core).
Raw numbers: `bench-keypoints.json`.
"""
