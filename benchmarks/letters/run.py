"""bench-letters: time to render a letter (text + HTML) and to make its PDF.

In-process, no database: the router's letter book with the shipped templates,
an item received before Easter Monday. Not a timed test; results go to
``bench-letters.json`` and, with ``--docs``, to a section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.e2e.report import update_docs
from benchmarks.machine import cpu_name
from services.router.letters.book import LetterBook
from services.router.letters.pdf import letter_pdf
from services.router.letters.render import ACKNOWLEDGEMENT, LANGUAGES, render, to_html
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES, RouterSettings

SECTION = "## Letters benchmark"


def _times_ms(work: Callable[[], object], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
    }


def run(repeat: int) -> dict[str, Any]:
    routing = load_rules(DEFAULT_RULES)
    book = LetterBook(routing, RouterSettings())  # type: ignore[call-arg]
    received = datetime(2026, 4, 3, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    route = routing.route("energy_aid", "high", False, received)
    item = {
        "request_id": "5d0f3c52-8a51-5e0e-9f6b-2a7c1f0b9d31",
        "external_id": "web-1042",
        "received_at": received,
        "due_at": route.due_at,
        "queue": route.queue,
        "metadata": {"from": "Marie Dubois <marie@example.be>"},
    }
    contexts = {lang: book.context(item, lang, "alice") for lang in LANGUAGES}

    def render_all() -> None:
        for lang, ctx in contexts.items():
            for kind in [ACKNOWLEDGEMENT, *book.kinds()]:
                to_html(book.env, render(book.env, kind, lang, ctx), ctx)

    ack = render(book.env, ACKNOWLEDGEMENT, "fr", contexts["fr"])
    settings = book.settings

    def pdf() -> bytes:
        return letter_pdf(
            ack.subject,
            ack.text,
            contexts["fr"],
            date_line="3 avril 2026",
            font_dir=settings.letters_font_dir,
        )

    letters = len(LANGUAGES) * (1 + len(book.kinds()))
    rendered = _times_ms(render_all, repeat)
    return {
        "machine": cpu_name("unknown CPU"),
        "repeat": repeat,
        "letters_per_render_round": letters,
        "render_letter_p50_ms": rendered["p50_ms"] / letters,
        "render_round_p99_ms": rendered["p99_ms"],
        **{f"pdf_{k}": v for k, v in _times_ms(pdf, max(5, repeat // 10)).items()},
        "pdf_bytes": len(pdf()),
        "load_average": os.getloadavg()[0],
    }


def markdown(r: dict[str, Any]) -> str:
    one = f"{r['render_letter_p50_ms']:.2f} ms"
    round_ = f"{r['render_round_p99_ms']:.1f} ms"
    pdf = f"{r['pdf_p50_ms']:.0f} ms | {r['pdf_p99_ms']:.0f} ms"
    count = r["letters_per_render_round"]
    return f"""{SECTION}

`make bench-letters` (`python -m benchmarks.letters.run`, not a timed test): the shipped
templates with the router's letter book, in one process, no database. Machine:
{r["machine"]}, shared with other jobs (load average {r["load_average"]:.1f} at the end of the
run: wall-clock times are inflated by waiting for a core).

| what | p50 | p99 |
|---|---:|---:|
| render one letter (text + HTML, sandboxed Jinja2, Babel dates) | {one} | |
| render all {count} letters (5 kinds × 3 languages) | | {round_} |
| one PDF (fpdf2, DejaVu fonts; {r["pdf_bytes"]:,} bytes) | {pdf} |

About half of a PDF's time (profiled) is fpdf2 reading the two DejaVu TrueType files, once
per document (its font objects track the glyphs one document uses, so they are not shared);
the router makes PDFs in a worker thread, so its event loop keeps serving meanwhile. Raw
numbers: `bench-letters.json`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-letters", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench-letters.json"))
    parser.add_argument("--docs", type=Path, default=None, help="update this markdown section")
    args = parser.parse_args(argv)
    result = run(args.repeat)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if args.docs is not None:
        update_docs(args.docs, markdown(result), SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
