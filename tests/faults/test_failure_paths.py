"""Failure paths that once lost or stalled requests (issue 13), on the real stack.

Each scenario prints sent / queued / dead-lettered / duplicated / lost.

* PostgreSQL unusable while requests flow: the router's role may not log in any
  more (its sessions ended, as a password rotation does), or the server turns
  read-only (what a fail-over to a standby looks like). The consumer must pause and
  retry with backoff, say why on ``/readyz``, and once the database is usable route
  every request exactly once: 0 dead letters.
* One e-mail repeating an urgency cue ten thousand times, then an ordinary one:
  both end in a queue (the classified event is bounded).
* A record from an outside producer that decodes but cannot be re-encoded (a lone
  surrogate), then an ordinary one on the same partition: the first is
  dead-lettered, the second is routed; the partition does not stall.

The local server trusts every local connection, so a changed password would not
be noticed: the role is refused at login (``NOLOGIN``, SQLSTATE 28000) instead,
which the consumer meets the same way (a new connection refused).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from shared.events import RECEIVED_V1, RequestReceived, encode, request_id_for
from stack.up import LocalStack
from tests.faults.support import (
    SOURCE,
    bodies,
    count,
    id_of,
    post_all,
    post_with_retry,
    produce,
    report,
    wait_queued,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

N = 600
DOWN_S = 5.0
ROLE = "router_fault"
DEADLETTERS = "triage_deadlettered_total"
Step = Callable[[asyncpg.Connection], Awaitable[Any]]


@pytest.fixture(scope="module")
def router_role(stack: LocalStack) -> Iterator[str]:
    """The router restarted under a role of its own, which the tests lock out."""
    admin = stack.env["TRIAGE_DATABASE_URL"]
    asyncio.run(_create_role(admin))
    parts = urlsplit(admin)
    role_dsn = parts._replace(netloc=f"{ROLE}@{parts.hostname}:{parts.port}").geturl()
    stack.stop_service("router")
    stack.env["TRIAGE_DATABASE_URL"] = role_dsn
    try:
        stack.start_service("router")
    finally:
        stack.env["TRIAGE_DATABASE_URL"] = admin
    yield ROLE


async def _create_role(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE ROLE {ROLE} LOGIN")
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
        await conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE}")
        await conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    finally:
        await conn.close()


async def _admin(stack: LocalStack, step: Step) -> None:
    conn = await asyncpg.connect(stack.env["TRIAGE_DATABASE_URL"])
    try:
        await step(conn)
    finally:
        await conn.close()


async def deadlettered(stack: LocalStack) -> float:
    """Dead letters sent so far by the classifier and the router (all reasons)."""
    total = 0.0
    async with httpx.AsyncClient(timeout=5) as client:
        for name in ("classifier", "router"):
            text = (await client.get(f"{stack.running[name].url}/metrics")).text
            total += sum(
                float(line.split()[-1])
                for line in text.splitlines()
                if line.startswith(DEADLETTERS + "{")
            )
    return total


async def _not_ready_reason(stack: LocalStack) -> str | None:
    async with httpx.AsyncClient(timeout=5) as client:
        resp = await client.get(f"{stack.running['router'].url}/readyz")
    return None if resp.status_code == 200 else str(resp.json()["message"])


async def _through_outage(
    stack: LocalStack, tag: str, breaking: Step, restoring: Step, cause: tuple[str, ...]
) -> None:
    dsn, key = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_DEMO_API_KEY"]
    ingest = stack.running["ingest"].url
    items, late = bodies(tag, N), bodies(f"{tag}-late", 50)
    ids = [id_of(b) for b in items + late]
    letters_before = await deadlettered(stack)
    # Ingest writes its intake ledger to the same PostgreSQL: while the database is
    # unusable it answers 503 (not accepted), and the intake client retries.
    posting = asyncio.create_task(post_with_retry(ingest, key, items, 300))

    async def started() -> bool:
        return (await count(dsn, tag, ids)).queued >= N // 4 or posting.done()

    await wait_until(started, 120, "a quarter of the requests routed")
    await _admin(stack, breaking)
    # sent while the database is unusable
    late_posting = asyncio.create_task(post_with_retry(ingest, key, late, 300))
    reasons: list[str] = []

    async def says_why() -> bool:
        reason = await _not_ready_reason(stack)
        reasons.append(reason or "")
        return reason is not None and any(word in reason for word in cause)

    await wait_until(says_why, 60, f"/readyz naming the cause {cause}")
    await asyncio.sleep(DOWN_S)
    stalled = (await count(dsn, tag, ids)).queued
    await _admin(stack, restoring)
    tally = await posting
    tally.merge(await late_posting)
    accepted = list(tally.accepted.values())
    counts = await wait_queued(dsn, tag, accepted, 240)
    letters = await deadlettered(stack) - letters_before
    queued = counts.queued
    report(
        tag, sent=tally.sent, accepted=len(accepted), queued_while_down=stalled,
        readyz=reasons[-1], refused_503_then_retried=tally.refused.get(503, 0),
        queued=queued, deadlettered=int(letters),
        duplicated=counts.duplicates, lost=len(accepted) - queued,
    )  # fmt: skip
    assert len(accepted) == N + len(late), f"ingest refused: {tally.refused}"
    assert stalled < len(accepted), "the outage began after everything was routed"
    assert queued == len(accepted) and letters == 0
    # "<tag>-%" also matches the late ones: one item per accepted request in all
    assert counts.duplicates == 0 and counts.items == len(accepted)


async def test_router_role_locked_out_mid_stream(stack: LocalStack, router_role: str) -> None:
    async def lock_out(conn: asyncpg.Connection) -> None:
        await conn.execute(f"ALTER ROLE {router_role} NOLOGIN")
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            router_role,
        )

    async def let_in(conn: asyncpg.Connection) -> None:
        await conn.execute(f"ALTER ROLE {router_role} LOGIN")

    await _through_outage(
        stack, "locked-out", lock_out, let_in, ("credentials", "InvalidAuthorization")
    )


async def test_database_read_only_mid_stream(stack: LocalStack, router_role: str) -> None:
    async def read_only(conn: asyncpg.Connection) -> None:
        await conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        await conn.execute("SELECT pg_reload_conf()")

    async def writable(conn: asyncpg.Connection) -> None:
        await conn.execute("SET default_transaction_read_only = off")
        await conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await conn.execute("SELECT pg_reload_conf()")

    await _through_outage(stack, "read-only", read_only, writable, ("read_only",))


async def test_a_cue_repeated_ten_thousand_times_and_the_next_request(
    stack: LocalStack,
) -> None:
    dsn, key = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_DEMO_API_KEY"]
    tag = "long-cue"
    long_one = {"source": SOURCE, "external_id": f"{tag}-00000", "channel": "email",
                "body": "SDF " * 10_000}  # fmt: skip
    ordinary = {**bodies(tag, 2)[1]}
    letters_before = await deadlettered(stack)
    tally = await post_all(stack.running["ingest"].url, key, [long_one], concurrency=1)
    tally.merge(await post_all(stack.running["ingest"].url, key, [ordinary], concurrency=1))
    accepted = list(tally.accepted.values())
    counts = await wait_queued(dsn, tag, accepted, 120)
    letters = await deadlettered(stack) - letters_before
    report(
        "long cue", sent=tally.sent, queued=counts.queued, deadlettered=int(letters),
        duplicated=counts.duplicates, lost=len(accepted) - counts.queued,
    )  # fmt: skip
    assert len(accepted) == 2 and counts.queued == 2 and counts.items == 2
    assert letters == 0 and counts.duplicates == 0


async def test_an_event_that_cannot_be_re_encoded_does_not_stall_its_partition(
    stack: LocalStack,
) -> None:
    dsn, bootstrap = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_KAFKA_BOOTSTRAP"]
    tag = "surrogate"
    bad, good = (_received(f"{tag}-{i:05d}") for i in range(2))
    data = json.loads(encode(bad))
    data["body"] = "lone \ud800 surrogate"
    key = b"same-partition"  # both records on one partition, the bad one first
    letters_before = await deadlettered(stack)
    await produce(bootstrap, RECEIVED_V1, [(key, json.dumps(data).encode()), (key, encode(good))])
    counts = await wait_queued(dsn, tag, [good.request_id], 120)

    async def dead_lettered() -> bool:
        return await deadlettered(stack) - letters_before >= 1

    await wait_until(dead_lettered, 60, "the bad record dead-lettered")
    letters = await deadlettered(stack) - letters_before
    report(
        "lone surrogate", sent=2, queued=counts.queued, deadlettered=int(letters),
        duplicated=counts.duplicates, lost=1 - counts.queued,
    )  # fmt: skip
    assert counts.queued == 1 and counts.items == 1 and letters == 1


def _received(external_id: str) -> RequestReceived:
    from datetime import UTC, datetime

    return RequestReceived(
        request_id=request_id_for(SOURCE, external_id), source=SOURCE, external_id=external_id,
        channel="email", body="Mon électricité sera coupée demain.",
        received_at=datetime.now(UTC),
    )  # fmt: skip
