"""kill -9 of each service in the middle of 2,000 requests, then a restart on the same port.

Every request ingest answered 202 must end in exactly one work item: the
classifier and the router commit their offsets only after their side effects,
so what a killed consumer had in hand is delivered again and the router's
``ON CONFLICT (request_id) DO NOTHING`` absorbs the repeat (``redelivered`` in the
printed counts: classified events the router found already routed).

The classifier serves a model with the ``hashing`` embedder (see conftest.py): these
tests are about delivery, and 2,000 requests through e5-small would take minutes each.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from stack.up import LocalStack
from tests.faults.support import (
    Tally,
    bodies,
    count,
    deadlettered_for,
    id_of,
    metric,
    post_all,
    report,
    wait_queued,
    wait_until,
)

N = 2000
KILL_AT = N // 4  # work items already in the queues when the kill happens
DRAIN_S = 240.0
DUPLICATES = "triage_router_duplicate_events_total"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


async def _kill_consumer_mid_stream(stack: LocalStack, service: str, tag: str) -> None:
    dsn = stack.env["TRIAGE_DATABASE_URL"]
    dups_before = await metric(stack.running["router"].url, DUPLICATES)
    items = bodies(tag, N)
    expected = [id_of(b) for b in items]
    posting = asyncio.create_task(
        post_all(stack.running["ingest"].url, stack.env["TRIAGE_DEMO_API_KEY"], items)
    )

    async def enough_queued() -> bool:
        return (await count(dsn, tag, expected)).queued >= KILL_AT or posting.done()

    await wait_until(enough_queued, 120, f"{KILL_AT} items queued before the kill")
    before = (await count(dsn, tag, expected)).queued
    await asyncio.to_thread(stack.stop_service, service, True)
    killed_at = time.monotonic()
    await asyncio.to_thread(stack.start_service, service)
    restart_s = time.monotonic() - killed_at
    tally = await posting
    accepted = list(tally.accepted.values())
    counts = await wait_queued(dsn, tag, accepted, DRAIN_S)
    lost = len(accepted) - counts.queued
    letters = await deadlettered_for(stack.env["TRIAGE_KAFKA_BOOTSTRAP"], accepted)
    dups_after = await metric(stack.running["router"].url, DUPLICATES)
    redelivered = dups_after - (0 if service == "router" else dups_before)
    report(
        f"kill -9 {service}",
        sent=tally.sent, accepted=len(accepted), queued_before_kill=before,
        restart_s=f"{restart_s:.1f}", queued=counts.queued, items=counts.items,
        duplicates=counts.duplicates, deadlettered=letters, lost=lost,
        redelivered=int(redelivered),
    )  # fmt: skip
    assert not posting_failures(tally), f"ingest refused or did not answer: {tally.refused}"
    assert before < len(accepted), "the kill came after the last request was queued"
    assert lost == 0 and counts.items == len(accepted) and counts.duplicates == 0
    assert letters == 0


def posting_failures(tally: Tally) -> int:
    return len(tally.unanswered) + sum(tally.refused.values())


async def test_kill_classifier_mid_stream(stack: LocalStack) -> None:
    await _kill_consumer_mid_stream(stack, "classifier", "kill-classifier")


async def test_kill_router_mid_stream(stack: LocalStack) -> None:
    await _kill_consumer_mid_stream(stack, "router", "kill-router")


async def test_kill_ingest_mid_stream(stack: LocalStack) -> None:
    """Answered requests are delivered; the client retries the others with the same ids.

    A request ingest published but could not answer before dying is in the pipeline
    already; its retry yields the same id and must not create a second item.
    """
    dsn, key = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_DEMO_API_KEY"]
    tag = "kill-ingest"
    items = bodies(tag, N)
    url = stack.running["ingest"].url
    progress = Tally()
    posting = asyncio.create_task(post_all(url, key, items, tally=progress))
    await wait_until(
        lambda: len(progress.accepted) >= N // 3 or posting.done(), 120, "N/3 accepted"
    )
    await asyncio.to_thread(stack.stop_service, "ingest", True)
    first = await posting
    answered_ids = list(first.accepted.values())
    unanswered = first.unanswered
    # requests the dead ingest published without answering are already on their way
    unanswered_ids = [id_of(b) for b in unanswered]
    await wait_queued(dsn, tag, answered_ids, DRAIN_S)
    published_unanswered = (await count(dsn, tag, unanswered_ids)).queued
    await asyncio.to_thread(stack.start_service, "ingest")
    # the client's retry: every unanswered request, plus a few answered ones again
    retry = await post_all(url, key, unanswered + items[:50])
    assert not posting_failures(retry), f"retries refused: {retry.refused}"
    for body in items[:50]:
        assert retry.accepted[body["external_id"]] == first.accepted[body["external_id"]]
    accepted = sorted({*answered_ids, *retry.accepted.values()})
    counts = await wait_queued(dsn, tag, accepted, DRAIN_S)
    lost = len(accepted) - counts.queued
    letters = await deadlettered_for(stack.env["TRIAGE_KAFKA_BOOTSTRAP"], accepted)
    report(
        "kill -9 ingest",
        sent=first.sent, accepted_before_kill=len(answered_ids), unanswered=len(unanswered),
        published_but_unanswered=published_unanswered, retried=retry.sent,
        accepted=len(accepted), queued=counts.queued, items=counts.items,
        duplicates=counts.duplicates, deadlettered=letters, lost=lost,
    )  # fmt: skip
    assert unanswered, "the kill came after the last request was answered"
    assert len(accepted) == N
    assert lost == 0 and counts.items == N and counts.duplicates == 0 and letters == 0
