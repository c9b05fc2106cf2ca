"""Letters on work items: draft from a template, edit, validate, PDF; acknowledgements.

Access follows the item's queue (``Principal.require``): whoever may see the
item may draft and validate its letters. Each change and its audit event are one
transaction; the audit records who and when, never the letter's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.router.auth import Principal
from services.router.db import SQL_DIR, NamedQueries, Queries, load_named
from services.router.letters.book import LetterBook
from services.router.letters.render import (
    ACKNOWLEDGEMENT,
    Rendered,
    TemplateMissing,
    letter_language,
    render,
    to_html,
)
from services.router.paging import parse_item_id
from services.router.views import source_lookup
from shared.errors import Conflict, Invalid, NotFound

SUBJECT_MAX = 300
BODY_MAX = 20_000
# A request seen but not routed yet is usually routed within seconds.
NOT_ROUTED_RETRY = {"Retry-After": "5"}


@dataclass(frozen=True, slots=True)
class LetterQueries(NamedQueries):
    """The letters' named SQL statements (``services/router/sql/letters.sql``)."""

    letter_item: str
    insert_letter: str
    open_draft: str
    list_letters: str
    get_letter: str
    update_letter: str
    validate_letter: str


def load_letter_queries() -> LetterQueries:
    return load_named(LetterQueries, SQL_DIR / "letters.sql")


def checked_text(subject: str, body: str) -> tuple[str, str]:
    """The edited subject (one line) and body, or Invalid (422)."""
    subject = " ".join(subject.split())
    body = body.replace("\r\n", "\n").strip()
    if not subject or not body:
        raise Invalid("a letter needs a subject and a text", code="letter_empty")
    if len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
        raise Invalid(
            f"a letter's subject is at most {SUBJECT_MAX} characters, its text {BODY_MAX}",
            code="letter_too_long",
        )
    return subject, body + "\n"


def letter_out(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["request_id"] = str(out["request_id"])
    return out


@dataclass(frozen=True)
class Acknowledgement:
    request_id: str
    letter: Rendered
    context: dict[str, Any]


class Letters:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        letter_queries: LetterQueries,
        book: LetterBook,
    ) -> None:
        self.pool = pool
        self.q = queries
        self.lq = letter_queries
        self.book = book

    async def _item(self, conn: asyncpg.Connection, who: Principal, value: str) -> Any:
        """The item, if the caller may see its queue (404 unknown or in another queue)."""
        item_id = parse_item_id(value)
        row = await conn.fetchrow(self.lq.letter_item, item_id) if item_id else None
        if row is None:
            raise NotFound(f"item {value} not found")
        who.require_item(row["queue"], value)
        return row

    async def _audit(
        self, conn: asyncpg.Connection, who: Principal, item: Any, event: str, letter: Any
    ) -> None:
        details = {"letter": letter["id"], "kind": letter["kind"], "language": letter["language"]}
        await conn.execute(
            self.q.insert_audit, item["request_id"], event, who.name, item["queue"], details
        )

    async def list(self, who: Principal, value: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            item = await self._item(conn, who, value)
            rows = await conn.fetch(self.lq.list_letters, item["request_id"])
        return [letter_out(r) for r in rows]

    async def draft(
        self, who: Principal, value: str, kind: str, language: str | None = None
    ) -> dict[str, Any]:
        """A new draft of ``kind``, filled in from the item, in the request's language;
        the open draft of that kind and language when there is one (idempotent)."""
        if kind not in self.book.kinds():
            raise Invalid(f"no standard letter {kind!r}", code="unknown_letter")
        async with self.pool.acquire() as conn:
            item = await self._item(conn, who, value)
            if item["purged_at"] is not None:
                raise Conflict(f"item {value}'s text was purged", code="item_purged")
            chosen = letter_language(language, "") or self.book.language_of(item)
            try:
                letter = render(
                    self.book.env, kind, chosen, self.book.context(item, chosen, who.name)
                )
            except TemplateMissing as exc:
                raise Invalid(str(exc), code="unknown_letter") from exc
            key = (item["request_id"], kind, chosen)
            async with conn.transaction():
                row = await conn.fetchrow(
                    self.lq.insert_letter, *key, letter.subject, letter.text, who.name
                )
                if row is None:  # a retry, or a colleague's draft: one open draft per kind
                    return letter_out(await conn.fetchrow(self.lq.open_draft, *key))
                await self._audit(conn, who, item, "letter_drafted", row)
        return letter_out(row)

    async def _change(
        self, who: Principal, value: str, letter_id: int, event: str, *args: Any
    ) -> dict[str, Any]:
        query = self.lq.update_letter if event == "letter_edited" else self.lq.validate_letter
        async with self.pool.acquire() as conn:
            item = await self._item(conn, who, value)
            async with conn.transaction():
                row = await conn.fetchrow(query, item["request_id"], letter_id, *args, who.name)
                if row is None:
                    raise await self._why(conn, item, letter_id)
                await self._audit(conn, who, item, event, row)
        return letter_out(row)

    async def _why(self, conn: asyncpg.Connection, item: Any, letter_id: int) -> Exception:
        row = await conn.fetchrow(self.lq.get_letter, item["request_id"], letter_id)
        if row is None:
            return NotFound(f"letter {letter_id} not found")
        return Conflict(
            f"letter {letter_id} was validated by {row['validated_by']}; it can no longer change",
            code="letter_validated",
        )

    async def edit(
        self, who: Principal, value: str, letter_id: int, subject: str, body: str
    ) -> dict[str, Any]:
        subject, body = checked_text(subject, body)
        return await self._change(who, value, letter_id, "letter_edited", subject, body)

    async def validate(self, who: Principal, value: str, letter_id: int) -> dict[str, Any]:
        return await self._change(who, value, letter_id, "letter_validated")

    async def get(self, who: Principal, value: str, letter_id: int) -> tuple[Any, dict[str, Any]]:
        """(the item, the letter)."""
        async with self.pool.acquire() as conn:
            item = await self._item(conn, who, value)
            row = await conn.fetchrow(self.lq.get_letter, item["request_id"], letter_id)
        if row is None:
            raise NotFound(f"letter {letter_id} not found")
        return item, letter_out(row)

    async def pdf(self, who: Principal, value: str, letter_id: int) -> tuple[str, bytes]:
        """(file name, PDF) of a validated letter: nothing leaves without an agent's yes."""
        item, letter = await self.get(who, value, letter_id)
        if letter["status"] != "validated":
            raise Conflict(
                f"letter {letter_id} is a draft: validate it first", code="letter_not_validated"
            )
        context = self.book.context(item, letter["language"])
        data = await self.book.pdf(
            letter["subject"], letter["body"], context, letter["validated_at"]
        )
        return f"letter-{str(item['request_id'])[:8]}-{letter_id}.pdf", data

    async def acknowledgement(self, source: str, value: str) -> Acknowledgement:
        """The acknowledgement of a routed request, for the source that sent it."""
        async with self.pool.acquire() as conn:
            item, received = await source_lookup(conn, self.q, self.lq.letter_item, source, value)
        if received is not None:
            raise Conflict(
                f"request {value} is not routed yet: ask again shortly",
                code="not_routed",
                headers=NOT_ROUTED_RETRY,
            )
        language = self.book.language_of(item)
        context = self.book.context(item, language)
        letter = render(self.book.env, ACKNOWLEDGEMENT, language, context)
        return Acknowledgement(str(item["request_id"]), letter, context)

    def ack_json(self, ack: Acknowledgement) -> dict[str, Any]:
        return {
            "request_id": ack.request_id,
            "language": ack.context["language"],
            "subject": ack.letter.subject,
            "text": ack.letter.text,
            "html": to_html(self.book.env, ack.letter, ack.context),
            "due_at": ack.context["due_at"],
        }

    async def ack_pdf(self, ack: Acknowledgement) -> bytes:
        return await self.book.pdf(
            ack.letter.subject, ack.letter.text, ack.context, ack.context["today"]
        )
