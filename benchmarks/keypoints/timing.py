"""Speed of the key points on 2,000-word requests (the issue's goal: p95 < 300 ms).

The long requests are built from the benchmark's own letters of one language,
joined as one body and cut at exactly 2,000 words, so that the sentences are
realistic; each is timed end to end (split, lexical scores, one embedder call,
selection) as the classifier runs it, with the service's default parameters.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import replace

from benchmarks.keypoints.data import Case
from services.classifier.keypoints import Embed, KeyPointer, Params, Segment, plan
from services.classifier.window import first_words
from shared.pii import mask

WORDS = 2_000


def long_requests(
    cases: Sequence[Case], count: int, words: int = WORDS
) -> list[tuple[str, list[Segment]]]:
    """``count`` requests of exactly ``words`` words, each from consecutive cases of a language."""
    out: list[tuple[str, list[Segment]]] = []
    by_language = [[c for c in cases if c.language == lang] for lang in ("fr", "nl", "en")]
    for index in range(count):
        pool = by_language[index % 3]
        start = index // 3
        texts: list[str] = []
        total = 0
        offset = 0
        while total < words:
            case = pool[(start + offset) % len(pool)]
            texts.extend(s.text for s in case.segments)
            total = sum(len(t.split()) for t in texts)
            offset += 1
        body = first_words("\n\n".join(texts), words)
        out.append((pool[start % len(pool)].subject, [Segment(body)]))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def time_requests(
    embed: Embed, params: Params, requests: Sequence[tuple[str, list[Segment]]], repeats: int
) -> dict[str, float]:
    """Per-request wall and CPU time in ms over ``repeats`` passes, after a warm-up."""
    return time_variants(embed, {"": params}, requests, repeats)[""]


def time_variants(
    embed: Embed,
    variants: dict[str, Params],
    requests: Sequence[tuple[str, list[Segment]]],
    repeats: int,
) -> dict[str, dict[str, float]]:
    """``time_requests`` for several parameter sets, taking turns request by request,
    so that each sees the same share of whatever else the shared machine runs."""
    pointers = {name: KeyPointer(embed, params) for name, params in variants.items()}
    for pointer in pointers.values():
        pointer.extract_many(list(requests[:2]))  # warm-up: onnxruntime's arena, the anchors
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for request in requests:
            for name, pointer in pointers.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                points = pointer.extract_many([request])
                wall[name].append((time.perf_counter() - start) * 1000)
                cpu[name].append((time.process_time() - start_cpu) * 1000)
                assert points[0], "a 2,000-word request must get key points"
    return {name: _summary(wall[name], cpu[name]) for name in variants}


def _summary(wall: list[float], cpu: list[float]) -> dict[str, float]:
    return {
        "requests": len(wall),
        "p50_ms": statistics.median(wall),
        "p95_ms": percentile(wall, 0.95),
        "max_ms": max(wall),
        # CPU time of all the process's threads: what the request costs, whatever
        # else the shared machine runs (wall time there also counts waiting for a core)
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p95_ms": percentile(cpu, 0.95),
    }


def lexical_cpu_ms(params: Params, requests: Sequence[tuple[str, list[Segment]]]) -> float:
    """Mean CPU ms of the pure part alone (splitting, lexical scores, shortlist)."""
    start = time.process_time()
    for subject, segments in requests:
        plan(subject, segments, params)
    return (time.process_time() - start) * 1000 / len(requests)


def masking_cpu_ms(requests: Sequence[tuple[str, list[Segment]]]) -> float:
    """Mean CPU ms of masking a request's segments again, as the pipeline does for the
    key points (so that a point's text is masked on its own)."""
    start = time.process_time()
    for subject, segments in requests:
        mask(subject)
        for segment in segments:
            mask(segment.text)
    return (time.process_time() - start) * 1000 / len(requests)


def previous_defaults(params: Params) -> Params:
    """The shortlist before the speed work: 10 candidates embedded whole."""
    return replace(params, candidates=10, embed_words=10_000)


def every_sentence(params: Params) -> Params:
    """The same method with no shortlist: every sentence embedded (what the shortlist saves)."""
    return replace(params, candidates=10_000)
