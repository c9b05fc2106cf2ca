"""``triage deadletter list | show ID | replay [--since T] [ID...]``: read and redrive.

Reads ``request.deadletter`` (TRIAGE_TOPIC_DEADLETTER) from its beginning, without
a consumer group (nothing is committed: listing twice lists the same letters).
``replay`` sends each chosen letter's original bytes, unchanged, back to the topic
they came from with their key, after the cause was fixed. Replaying is idempotent:
the request id is part of the event and the router inserts a work item once per
request id, so a letter replayed twice (or a request that went through anyway)
never makes a second work item.

Letters hold the original payload, that is personal data: ``show`` prints it only
with ``--payload``; ``list`` never does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.events import DEADLETTER_V1, EVENT_TYPE_HEADER, DeadLetter, PoisonMessage, decode
from shared.kafka import admin_options, make_broker
from shared.settings import KafkaSettings

IDLE_ROUNDS = 3  # empty fetches in a row that mean "read to the end"


async def read_letters(settings: KafkaSettings, wait_s: float = 0.3) -> list[DeadLetter]:
    """Every decodable letter on the dead-letter topic, oldest first."""
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False, fetch_max_wait_ms=50,
        max_partition_fetch_bytes=settings.deadletter_max_bytes, **admin_options(settings),
    )  # fmt: skip
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        partitions = consumer.partitions_for_topic(settings.topic_deadletter) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(settings.topic_deadletter) or set()
        tps = [TopicPartition(settings.topic_deadletter, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        idle = 0
        while idle < IDLE_ROUNDS:
            batch = await consumer.getmany(timeout_ms=int(wait_s * 1000))
            records = [r for recs in batch.values() for r in recs]
            idle = 0 if records else idle + 1
            letters.extend(letter for r in records if (letter := _decoded(r.value)) is not None)
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda letter: letter.failed_at)


def _decoded(value: bytes | None) -> DeadLetter | None:
    try:
        letter: DeadLetter = decode(value or b"", DEADLETTER_V1)
    except PoisonMessage:
        return None
    return letter


def chosen(
    letters: Sequence[DeadLetter], ids: Sequence[str], since: datetime | None
) -> list[DeadLetter]:
    """The letters named by id (all when none is named), failed at ``since`` or later (pure)."""
    wanted = set(ids)
    return [
        letter
        for letter in letters
        if (not wanted or letter.event_id in wanted)
        and (since is None or letter.failed_at >= since)
    ]


def summary(letter: DeadLetter) -> str:
    """One line per letter: codes and places, never the payload or the error text."""
    return (
        f"{letter.event_id}  {letter.failed_at.isoformat(timespec='seconds')}  "
        f"{letter.stage:<10} {letter.reason:<10} {letter.original_topic}"
        f"[{letter.original_partition}]@{letter.original_offset}  key={letter.original_key}"
    )


def _event_type(raw: bytes) -> str | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    kind = data.get("event_type") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


async def replay(settings: KafkaSettings, letters: Sequence[DeadLetter]) -> int:
    """Send each letter's original record back to its topic; the number sent."""
    broker = make_broker(settings)
    await broker.start()
    try:
        for letter in letters:
            raw = letter.original_bytes()
            kind = _event_type(raw)
            await broker.publish(
                raw,
                letter.original_topic,
                key=letter.original_key.encode() if letter.original_key else None,
                headers={EVENT_TYPE_HEADER: kind} if kind else None,
            )
    finally:
        await broker.stop()
    return len(letters)


def moment(text: str) -> datetime:
    """An ISO date or date-time; UTC when it has no offset."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage deadletter",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="one line per letter (no payload)")
    listing.add_argument("--since", type=moment, help="failed at or after")
    show = sub.add_parser("show", help="one letter in full")
    show.add_argument("id")
    show.add_argument("--payload", action="store_true", help="include the payload (personal data)")
    again = sub.add_parser("replay", help="send letters back to their topic, after a fix")
    again.add_argument("ids", nargs="*", metavar="ID", help="letter ids (default: all chosen)")
    again.add_argument("--since", type=moment, help="failed at or after")
    again.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    return parser


async def run(args: argparse.Namespace, settings: KafkaSettings) -> int:
    letters = await read_letters(settings)
    if args.action == "show":
        found = chosen(letters, [args.id], None)
        if not found:
            print(f"no dead letter {args.id}", file=sys.stderr)
            return 1
        exclude = None if args.payload else {"payload"}
        print(found[0].model_dump_json(indent=2, exclude=exclude))
        return 0
    picked = chosen(letters, getattr(args, "ids", []), args.since)
    for letter in picked:
        print(summary(letter))
    if args.action == "replay" and not args.dry_run:
        if not picked:
            print("nothing to replay", file=sys.stderr)
            return 1
        print(f"replayed {await replay(settings, picked)} letter(s)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return asyncio.run(run(args, KafkaSettings()))
