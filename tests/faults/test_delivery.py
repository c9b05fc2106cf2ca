"""Duplicate and malformed deliveries, injected straight into the pipeline's topics."""

from __future__ import annotations

import json

import pytest

from shared.events import CLASSIFIED_V1, DEADLETTER_V1, RECEIVED_V1, DeadLetter
from stack.up import LocalStack
from tests.faults.support import (
    bodies,
    id_of,
    metric,
    post_all,
    produce,
    report,
    wait_queued,
    wait_until,
)
from tests.fixtures.services import read_topic

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DUPLICATES_METRIC = "triage_router_duplicate_events_total"


async def _records_for(bootstrap: str, topic: str, ids: set[str]) -> list[bytes]:
    records = await read_topic(bootstrap, topic, wait_s=10)
    return [r.value for r in records if r.key and r.key.decode() in ids]


async def test_duplicate_deliveries_make_one_work_item(stack: LocalStack) -> None:
    """The same event delivered again on each topic, and the same POST again: one item each."""
    env, tag, n = stack.env, "dup", 20
    dsn, bootstrap = env["TRIAGE_DATABASE_URL"], env["TRIAGE_KAFKA_BOOTSTRAP"]
    router = stack.running["router"].url
    items = bodies(tag, n)
    first = await post_all(stack.running["ingest"].url, env["TRIAGE_DEMO_API_KEY"], items)
    ids = list(first.accepted.values())
    assert (await wait_queued(dsn, tag, ids, 120)).queued == n
    baseline = await metric(router, DUPLICATES_METRIC)
    wanted = set(ids)
    received = await _records_for(bootstrap, RECEIVED_V1, wanted)
    classified = await _records_for(bootstrap, CLASSIFIED_V1, wanted)
    assert len(received) == n and len(classified) == n
    for topic, values in ((RECEIVED_V1, received), (CLASSIFIED_V1, classified)):
        again = [(json.loads(v)["request_id"].encode(), v) for v in values]
        await produce(bootstrap, topic, again * 2)  # each event twice more
    second = await post_all(stack.running["ingest"].url, env["TRIAGE_DEMO_API_KEY"], items)
    assert second.accepted == first.accepted, "a repeated POST must give the same ids"
    expected_dups = 2 * n + 2 * n + n  # received x2 (re-classified), classified x2, re-POST

    async def absorbed() -> bool:
        return await metric(router, DUPLICATES_METRIC) - baseline >= expected_dups

    await wait_until(absorbed, 120, f"{expected_dups} duplicate events reaching the router")
    counts = await wait_queued(dsn, tag, ids, 10)
    report(
        "duplicate delivery",
        sent=first.sent + second.sent + 4 * n, accepted=len(ids),
        duplicate_events=int(await metric(router, DUPLICATES_METRIC) - baseline),
        queued=counts.queued, items=counts.items, routed_events=counts.routed_events,
        duplicates=counts.duplicates, lost=n - counts.queued,
    )  # fmt: skip
    assert counts.queued == n and counts.items == n and counts.duplicates == 0


def _poison(tag: str, wrong_type: str) -> list[tuple[bytes, bytes | None]]:
    """Records no consumer can use, each under its own key so the letters can be matched."""
    non_uuid = {"event_type": wrong_type, "request_id": "x"}
    return [
        (f"{tag}-text".encode(), b"not json at all"),
        (f"{tag}-utf8".encode(), b'{"body": "\xff\xfe"}'),
        (f"{tag}-list".encode(), b"[1, 2, 3]"),
        (f"{tag}-type".encode(), json.dumps({"event_type": "triage.nope.v9"}).encode()),
        (f"{tag}-fields".encode(), json.dumps(non_uuid).encode()),
        (f"{tag}-tombstone".encode(), None),
        (f"{tag}-deep".encode(), b"[" * 20_000 + b"]" * 20_000),  # json.loads: RecursionError
    ]


async def test_malformed_events_are_deadlettered_and_flow_continues(stack: LocalStack) -> None:
    env, tag = stack.env, "poison"
    dsn, bootstrap = env["TRIAGE_DATABASE_URL"], env["TRIAGE_KAFKA_BOOTSTRAP"]
    key = env["TRIAGE_DEMO_API_KEY"]
    before = bodies(f"{tag}-before", 30)
    after = bodies(f"{tag}-after", 30)
    ingest = stack.running["ingest"].url
    first = await post_all(ingest, key, before)
    poison_received = _poison(f"{tag}-rcv", "triage.request.received.v1")
    poison_classified = _poison(f"{tag}-cls", "triage.request.classified.v1")
    # A valid request whose id is no UUID: the classifier classifies it, the router
    # cannot store it (processing error) and dead-letters it after its retries.
    published = await _records_for(bootstrap, RECEIVED_V1, {id_of(before[0])})
    assert published, "ingest answered 202, so the event is on the topic"
    # the classifier keys its result by request id, so the router's letter carries it
    bad = f"{tag}-baduuid"
    event = {**json.loads(published[0]), "request_id": bad, "external_id": bad}
    messages_received = [*poison_received, (bad.encode(), json.dumps(event).encode())]
    await produce(bootstrap, RECEIVED_V1, messages_received)
    await produce(bootstrap, CLASSIFIED_V1, poison_classified)
    second = await post_all(ingest, key, after)
    ids = [*first.accepted.values(), *second.accepted.values()]
    counts_before = await wait_queued(dsn, f"{tag}-before", list(first.accepted.values()), 120)
    counts_after = await wait_queued(dsn, f"{tag}-after", list(second.accepted.values()), 120)
    keys = {k.decode() for k, _ in [*messages_received, *poison_classified]}

    async def all_dead() -> bool:
        letters = await read_topic(bootstrap, DEADLETTER_V1, wait_s=5)
        return {r.key.decode() for r in letters if r.key} >= keys

    await wait_until(all_dead, 120, "every malformed record in the dead-letter topic")
    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in await read_topic(bootstrap, DEADLETTER_V1, wait_s=5)
        if r.key and r.key.decode() in keys
    ]
    by_key = {letter.original_key or "": letter for letter in letters}
    report(
        "malformed events",
        sent=len(before) + len(after), accepted=len(ids),
        injected=len(keys), deadlettered=len(by_key), letters=len(letters),
        queued=counts_before.queued + counts_after.queued,
        duplicates=counts_before.duplicates + counts_after.duplicates,
        lost=len(ids) - counts_before.queued - counts_after.queued,
    )  # fmt: skip
    assert len(ids) == 60 and counts_before.queued + counts_after.queued == 60
    assert counts_before.duplicates == counts_after.duplicates == 0
    assert set(by_key) == keys and len(letters) == len(keys), "each record dead-lettered once"
    for k, letter in by_key.items():
        stage = "router" if "-cls-" in k or k == bad else "classifier"
        assert letter.stage == stage, (k, letter.stage, letter.error)
    assert by_key[bad].reason == "processing" and by_key[bad].attempts == 3
