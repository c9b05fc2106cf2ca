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
            "The CPU time is what a request costs whatever else runs; the wall time "
            "adds the wait for a core, so it is the goal's measure only on a quiet machine."
        )
    return (
        "That is above the goal too, so the goal is not shown to be met even on an idle "
        "machine. The cost is the embedder's: fewer candidates "
        "(`TRIAGE_CLASSIFIER_KEY_POINTS_CANDIDATES`, at least 7) lower it."
    )


def _speed(r: dict[str, Any]) -> str:
    t, before = r["timing_2000_words"], r["timing_2000_words_previous_defaults"]
    every, params, m = r["timing_2000_words_every_sentence"], r["params"], r["machine"]
    verdict = "meets" if t["p95_ms"] < GOAL_P95_MS else "misses"
    return f"""Speed: {t["requests"]} key-point extractions of 2,000-word requests (built from the
test set's letters, one language each; the service's defaults: {params["candidates"]}
sentences embedded per request, each by its first {params["embed_words"]} words, 7 points),
timed end to end as the classifier runs them.
Wall time: p50 {t["p50_ms"]:.0f} ms, **p95 {t["p95_ms"]:.0f} ms**, max {t["max_ms"]:.0f} ms — this
{verdict} the goal p95 < {GOAL_P95_MS:.0f} ms. CPU time of the process (all its threads):
p50 {t["cpu_p50_ms"]:.0f} ms, **p95 {t["cpu_p95_ms"]:.0f} ms**. {_cpu_note(t["cpu_p95_ms"])}
The lexical pass alone (splitting, TF-IDF, cues, shortlist) takes
{r["lexical_cpu_ms_2000_words"]:.0f} ms of CPU per request, masking the segments again for the
points {r.get("masking_cpu_ms_2000_words", 0):.1f} ms (not worth sharing the first masking's spans);
the rest is the embedder, whose cost grows with the tokens it reads: hence fewer candidates,
each cut to its first words (the points themselves stay whole sentences).
The defaults before (10 candidates embedded whole), timed in the same run taking turns
request by request: wall p50 {before["p50_ms"]:.0f} / p95 {before["p95_ms"]:.0f} ms, CPU
p50 {before["cpu_p50_ms"]:.0f} / p95 {before["cpu_p95_ms"]:.0f} ms; their recall@{r["k"]}
{_pct(r["recall_previous_defaults"])} against {_pct(r["recall"]["method"])} now.
Embedding every sentence instead of the shortlist: wall p50 {every["p50_ms"]:.0f} ms,
CPU p50 {every["cpu_p50_ms"]:.0f} ms over {every["requests"]} requests.
Machine: {m["cpu"]}, {m["cores"]} cores, shared with other jobs (1-minute load
average {m["load_average_1m_at_start"]} at the start, {m["load_average_1m_at_end"]} at the end)."""


def markdown(r: dict[str, Any]) -> str:
    rec = r["recall"]
    langs = " | ".join(
        f"{lang}: {_pct(v['method'])} / {_pct(v['lead'])} / {_pct(v['random'])}"
        for lang, v in rec["per_language"].items()
    )
    ablations = "\n".join(f"| {name} | {_pct(value)} |" for name, value in rec["ablations"].items())
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

{_speed(r)}
Raw numbers: `bench-keypoints.json`.
"""
