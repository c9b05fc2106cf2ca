"""The document store and intake ledger in PostgreSQL (claim-check).

Ingest stores a request's files and its content hash in one transaction before
its 202; events carry only :class:`shared.events.DocumentRef` references. The
SQL is in ``documents.sql`` (named blocks, as the router's queries).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import asyncpg

from shared.db import parse_statements
from shared.events import DocumentRef

SQL_FILE = Path(__file__).with_name("documents.sql")


@dataclass(frozen=True, slots=True)
class DocumentQueries:
    record_intake: str
    insert_documents: str
    request_documents: str
    list_documents: str
    mark_documents: str
    get_document: str

    @classmethod
    def load(cls, path: Path = SQL_FILE) -> DocumentQueries:
        statements = parse_statements(path.read_text(encoding="utf-8"), path.name)
        names = {f.name for f in fields(cls)}
        if statements.keys() != names:
            raise ValueError(f"{path.name} and DocumentQueries disagree")
        return cls(**statements)


@dataclass(frozen=True)
class File:
    """One file of a request, decoded and checked by ingest."""

    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def ref(self, request_id: str, position: int) -> DocumentRef:
        return DocumentRef(
            document_id=document_id_for(request_id, position),
            name=self.name,
            content_type=self.content_type,
            size=len(self.data),
            sha256=self.sha256,
        )


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    name: str
    content_type: str
    data: bytes


@functools.cache
def _default_queries() -> DocumentQueries:
    return DocumentQueries.load()


def document_id_for(request_id: str, position: int) -> str:
    """Deterministic: a retried request stores (and references) the same documents."""
    return str(uuid.uuid5(uuid.UUID(request_id), f"document/{position}"))


class DocumentStore:
    def __init__(self, pool: asyncpg.Pool, queries: DocumentQueries | None = None) -> None:
        self.pool = pool
        self.q = queries or _default_queries()

    async def record(
        self, request_id: str, source: str, external_id: str, content_sha256: str, files: list[File]
    ) -> str:
        """Store the files and the ledger row in one transaction; the hash on record."""
        rid = uuid.UUID(request_id)
        async with self.pool.acquire() as conn, conn.transaction():
            recorded: str | None = await conn.fetchval(
                self.q.record_intake, rid, source, external_id, content_sha256
            )
            if recorded is None:  # a concurrent first acceptance committed meanwhile
                recorded = await conn.fetchval(
                    self.q.record_intake, rid, source, external_id, content_sha256
                )
            if recorded == content_sha256 and files:
                await conn.execute(self.q.insert_documents, *_columns(request_id, files))
        return recorded or content_sha256

    async def request_documents(self, request_id: str) -> list[StoredDocument]:
        rows = await self.pool.fetch(self.q.request_documents, uuid.UUID(request_id))
        return [_stored(r) for r in rows]

    async def listing(self, request_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(self.q.list_documents, uuid.UUID(request_id))
        return [{**dict(r), "document_id": str(r["document_id"])} for r in rows]

    async def mark(self, refs: list[DocumentRef]) -> None:
        """Record each document's extraction outcome (status, problem, pages)."""
        await self.pool.execute(
            self.q.mark_documents,
            [uuid.UUID(r.document_id) for r in refs],
            [r.status.value for r in refs],
            [r.problem for r in refs],
            [r.pages for r in refs],
        )

    async def get(self, request_id: str, document_id: str) -> StoredDocument | None:
        row = await self.pool.fetchrow(
            self.q.get_document, uuid.UUID(request_id), uuid.UUID(document_id)
        )
        return None if row is None else _stored(row)


def _stored(row: Any) -> StoredDocument:
    return StoredDocument(str(row["document_id"]), row["name"], row["content_type"], row["content"])


def _columns(request_id: str, files: list[File]) -> list[list[Any]]:
    refs = [f.ref(request_id, i) for i, f in enumerate(files)]
    return [
        [uuid.UUID(r.document_id) for r in refs],
        [uuid.UUID(request_id)] * len(files),
        list(range(len(files))),
        [f.name for f in files],
        [f.content_type for f in files],
        [len(f.data) for f in files],
        [f.sha256 for f in files],
        [f.data for f in files],
    ]
