"""The "Related cases" section of docs/benchmarks.md, from ``bench-related.json``."""

from __future__ import annotations

from typing import Any

SECTION = "## Related cases: duplicates and lookup time"

FAMILIES = {
    "resubmission": "resubmission with small edits (duplicate)",
    "forwarded": "forwarded copy (duplicate)",
    "other_words": "same need in other words, Banking77/CLINC150 (duplicate)",
    "same_type": "two different requests of one type (not a duplicate)",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _at(r: dict[str, Any], t: float) -> str:
    row = next((s for s in r["sweep"] if abs(s["threshold"] - t) < 1e-9), None)
    if row is None:
        return "see the sweep"
    return f"at {t:.2f}: precision {_pct(row['precision'])}, recall {_pct(row['recall'])}"


def _sweep(r: dict[str, Any]) -> str:
    wanted = {round(0.86 + 0.01 * i, 3) for i in range(14)} | {r["chosen"]["threshold"]}
    rows = [s for s in r["sweep"] if s["threshold"] in wanted]
    return "\n".join(
        f"| {s['threshold']:.3f} | {_pct(s['precision'])} | {_pct(s['recall'])} |" for s in rows
    )


def _families(r: dict[str, Any]) -> str:
    return "\n".join(
        f"| {FAMILIES.get(name, name)} | {f['pairs']:,} | {f['p05_cosine']:.3f} | "
        f"{f['median_cosine']:.3f} | {f['p95_cosine']:.3f} | {_pct(f['above'])} |"
        for name, f in r["families"].items()
    )


def _lookup(r: dict[str, Any]) -> str:
    return "\n".join(
        f"| {x['items']:,} | {x.get('cpu_p50_ms', float('nan')):.1f} ms "
        f"| {x.get('cpu_p99_ms', float('nan')):.1f} ms | {x['p50_ms']:.1f} ms "
        f"| {x['p99_ms']:.1f} ms | {x['memory_mb']:.0f} MB |"
        for x in r.get("lookup", [])
    )


def _loaded(r: dict[str, Any]) -> str:
    rows = [x for x in r.get("loaded_lookup", []) if x["items"] == 100_000]
    if not rows:
        return "no numbers"
    return f"a wall p99 of {rows[0]['p99_ms']:.0f} ms at 100,000 items for about the same CPU cost"


def markdown(r: dict[str, Any]) -> str:
    c, edits, corpus = r["chosen"], r["without_other_words"], r["corpus"]
    rate = r.get("embed_texts_per_s")
    speed = f" ({rate:.1f} texts/s)" if isinstance(rate, float) and rate == rate else ""
    return f"""{SECTION}

`make bench-related` (`python -m benchmarks.related.run`, not a timed test). Machine:
{r["machine"]} (the pairs' embedding ran while other jobs loaded it: its speed is low).

**Pairs** ({r["pairs"]:,}, of which {r["duplicates"]:,} duplicates): built by
`benchmarks/related/pairs.py` from the demo corpus, the support tickets (v4, v5), Banking77 and
CLINC150 (`../shared/datasets`, evaluation only). Every text is masked as the classifier masks
it and embedded with the serving embedder ({r["embedder"]}{speed}); a pair's score is the cosine.

**Threshold**: the lowest at which at least {_pct(r["min_precision"])} of the pairs found are
duplicates, so that at most one suggestion in twenty is wrong: **{c["threshold"]:.3f}**
(`TRIAGE_ROUTER_DUPLICATE_THRESHOLD`): precision {_pct(c["precision"])}, recall
{_pct(c["recall"])}. Without the "other words" family (edits and forwards only): precision
{_pct(edits["precision"])}, recall {_pct(edits["recall"])}.

| threshold | precision | recall |
|---:|---:|---:|
{_sweep(r)}

| family | pairs | cosine p5 | median | p95 | above the threshold |
|---|---:|---:|---:|---:|---:|
{_families(r)}

Resubmissions and forwarded copies are found; the same need written by another person mostly
is not, and should not be: two people asking the same thing are two cases. On the demo corpus
against itself ({corpus["requests"]:,} different requests, none a duplicate of another), a
request finds {corpus["mean_suggestions"]:.3f} others above the threshold on average, and
{_pct(corpus["share_with_any"])} of requests find at least one: short requests about the same
thing written alike are the false suggestions an agent dismisses. The pair set holds fewer
negatives than a real window of open items does, so precision in service is lower than above;
an administration that prefers fewer suggestions raises the threshold ({_at(r, 0.95)}).

**Lookup time** of `VectorIndex.search` (numpy, single-threaded BLAS, 384 float32 per item,
random unit vectors: the time depends on the count, not the content):

| open items in the window | CPU p50 | CPU p99 | wall p50 | wall p99 | memory |
|---:|---:|---:|---:|---:|---:|
{_lookup(r)}

CPU is the time the searching thread ran, wall what the caller waited (load average ~3.5 on
the 2 cores during this run). The goal, p99 < 50 ms at 100,000 open items, is met. The same
run while other jobs loaded the machine (load average ~20) gave {_loaded(r)}: a search waits
for a core, and the router's event loop waits with it.
A search is one matrix-vector product over every indexed item (measured with
`OPENBLAS_NUM_THREADS=1`): time and memory grow linearly with the open items of the window
(1.5 KB each). When one router holds more than a few hundred thousand open items, shorten
`TRIAGE_ROUTER_DUPLICATE_DAYS`, or partition the index by type.
"""
