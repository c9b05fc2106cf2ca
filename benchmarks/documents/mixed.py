"""The mixed run: plain-text requests at a fixed rate while scanned letters stream.

The same plain-text load twice on one stack — alone, then with a scanned letter
(two OCR pages) posted every ``scan_interval_s`` — and each time the plain-text
requests' latency from accepted to queued, as ``make bench`` measures it. The
scanned letters' own latency is reported too: they wait for OCR, plain text must not.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from benchmarks.e2e import loadgen
from benchmarks.e2e.corpus import requests_for
from benchmarks.e2e.measure import Database, percentiles
from stack.up import LocalStack
from testing import documents as d

WARMUP_S = 10.0


def _letter(tag: str, i: int) -> dict[str, Any]:
    pages = d.scanned_pdf(d.FR_LETTER + d.NL_LETTER)
    scan = {"name": "scan.pdf", "content_type": d.PDF_TYPE, "content_base64": d.b64(pages)}
    return {"source": "demo", "external_id": f"{tag}-{i}", "channel": "letter",
            "body": "Courrier scanné.", "attachments": [scan]}  # fmt: skip


async def _stream_scans(stack: LocalStack, tag: str, interval_s: float, stop: asyncio.Event) -> int:
    headers = {"Authorization": f"Bearer {stack.env['TRIAGE_DEMO_API_KEY']}"}
    sent = 0
    async with httpx.AsyncClient(base_url=stack.running["ingest"].url, headers=headers) as client:
        while not stop.is_set():
            response = await client.post("/v1/requests", json=_letter(tag, sent), timeout=30)
            assert response.status_code == 202, response.text
            sent += 1
            await asyncio.sleep(interval_s)
    return sent


async def _plain(
    stack: LocalStack, db: Database, tag: str, rate: float, seconds: float
) -> dict[str, Any]:
    bodies = requests_for(tag, max(50, int(rate * seconds)))
    url = stack.running["ingest"].url
    posts = loadgen.encode_posts(url, stack.env["TRIAGE_DEMO_API_KEY"], bodies)
    run = await loadgen.open_loop(url, posts, rate, f"plain text @ {rate}/s ({tag})")
    queued = await db.wait_queued(tag, len(run.accepted()), 600, f"{tag}: queued")
    return {"sent": len(bodies), "accepted": len(run.accepted()), "queued": queued,
            "latency_ms": percentiles((await db.latencies_ms(tag))["total"])}  # fmt: skip


async def mixed_run(
    stack: LocalStack, run_id: str, rate: float, seconds: float, scan_interval_s: float
) -> dict[str, Any]:
    db = Database(stack.env["TRIAGE_DATABASE_URL"])
    # A freshly started classifier's first batches are slow (onnxruntime sizes its
    # arena, lazy kernels): warm it up so that "alone" is not the cold start.
    await _plain(stack, db, f"docs{run_id}-warmup", rate, WARMUP_S)
    alone = await _plain(stack, db, f"docs{run_id}-alone", rate, seconds)
    stop = asyncio.Event()
    scans_tag = f"docs{run_id}-scans"
    streaming = asyncio.create_task(_stream_scans(stack, scans_tag, scan_interval_s, stop))
    await asyncio.sleep(2 * scan_interval_s)  # the OCR worker is busy before plain text starts
    mixed = await _plain(stack, db, f"docs{run_id}-mixed", rate, seconds)
    stop.set()
    scans = await streaming
    started = time.monotonic()
    scans_queued = await db.wait_queued(scans_tag, scans, 900, "scanned letters: queued")
    scan_ms = percentiles((await db.latencies_ms(scans_tag))["total"])
    return {"rate_per_s": rate, "seconds": seconds, "alone": alone, "with_scans": mixed,
            "scans": {"sent": scans, "queued": scans_queued, "interval_s": scan_interval_s,
                      "drain_after_s": round(time.monotonic() - started, 1),
                      "latency_ms": scan_ms}}  # fmt: skip


async def ingest_alone(stack: LocalStack, run_id: str, requests: int, concurrency: int) -> float:
    """Plain-text 202s per second with the classifier and router stopped (as make bench)."""
    for name in ("classifier", "router"):
        stack.stop_service(name)
    url = stack.running["ingest"].url
    bodies = requests_for(f"docs{run_id}-ingest", requests)
    posts = loadgen.encode_posts(url, stack.env["TRIAGE_DEMO_API_KEY"], bodies)
    run = await loadgen.closed_loop(url, posts, concurrency, "ingest alone")
    accepted = run.accepted()
    return len(accepted) / (max(o.answered_s for o in accepted) - run.started_s)
