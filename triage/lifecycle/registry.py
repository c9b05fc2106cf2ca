"""The registry of model versions in PostgreSQL, and its projection ``active.json``.

A version is registered once (its artifact copied into the store), then promoted
or rolled back; each change is one transaction that also writes its audit row in
``model_events``, serialised by an advisory lock. After the commit the store's
pointer is rewritten from the registry (``sync_pointer``), so running a command
again repairs a pointer a crash left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import asyncpg

from services.classifier.model.artifact import MANIFEST
from services.classifier.model.store import ActivePointer, read_active, version_dir, write_active
from services.router.db import NamedQueries, load_named
from triage.lifecycle.gate import Decision, Margins, decide

SQL = Path(__file__).with_name("registry.sql")


@dataclass(frozen=True, slots=True)
class ModelQueries(NamedQueries):
    lock_registry: str
    insert_version: str
    update_evaluation: str
    get_version: str
    active_version: str
    list_versions: str
    retire_active: str
    activate: str
    set_shadow: str
    shadow_versions: str
    insert_event: str
    version_events: str
    human_labels: str

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def load_model_queries() -> ModelQueries:
    return load_named(ModelQueries, SQL)


class RegistryError(RuntimeError):
    """A registry action that does not apply (unknown version, wrong state...)."""


@dataclass(frozen=True)
class Promotion:
    version: str
    previous: str | None
    decision: Decision
    forced: bool

    @property
    def done(self) -> bool:
        return self.forced or self.decision.passed


class Registry:
    def __init__(self, conn: asyncpg.Connection, store: Path) -> None:
        self.conn = conn
        self.store = store
        self.q = load_model_queries()

    async def get(self, version: str) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(self.q.get_version, version)
        return dict(row) if row else None

    async def active(self) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(self.q.active_version)
        return dict(row) if row else None

    async def register(
        self, manifest: dict[str, Any], artifact: Path, metrics: dict[str, Any],
        report: Path | None, actor: str, *, reevaluated: bool = True,
    ) -> bool:  # fmt: skip
        """Add a candidate; False when the version was registered already (same model),
        whose evaluation is then replaced when ``reevaluated`` (a new retrain)."""
        version = manifest["model_version"]
        async with self.conn.transaction():
            await self.conn.execute(self.q.lock_registry)
            added = await self.conn.fetchval(
                self.q.insert_version, version, str(artifact), manifest["training"]["sha256"],
                manifest["embedder"], metrics, str(report) if report else None,
            )  # fmt: skip
            if added is None and reevaluated:
                await self.conn.execute(
                    self.q.update_evaluation, version, metrics, str(report) if report else None
                )
            details = {"training_rows": manifest["training"]["rows"], "new": added is not None}
            await self.conn.execute(self.q.insert_event, version, "registered", actor, details)
        return added is not None

    async def promote(
        self, version: str, actor: str, margins: Margins, *, force: bool = False
    ) -> Promotion:
        """Activate ``version`` if the gate lets it (or ``force``); a refusal is audited."""
        async with self.conn.transaction():
            await self.conn.execute(self.q.lock_registry)
            row = await self._candidate(version)
            active = await self.active()
            previous = active["version"] if active else None
            decision = decide(row["metrics"].get("holdout"), previous, margins)
            promotion = Promotion(version, previous, decision, force and not decision.passed)
            details = {"gate": decision.to_dict(), "forced": promotion.forced, "from": previous}
            if not promotion.done:
                await self.conn.execute(
                    self.q.insert_event, version, "promotion_refused", actor, details
                )
                return promotion
            await self.conn.execute(self.q.retire_active)
            await self.conn.fetchrow(self.q.activate, version, actor, promotion.forced, previous)
            await self.conn.execute(self.q.insert_event, version, "promoted", actor, details)
        await self.sync_pointer()
        return promotion

    async def _candidate(self, version: str) -> dict[str, Any]:
        row = await self.get(version)
        if row is None:
            raise RegistryError(f"unknown model version {version} (see `triage models list`)")
        if row["state"] == "active":
            raise RegistryError(f"{version} is already the active version")
        if not (version_dir(self.store, version) / MANIFEST).is_file():
            # the classifiers would refuse it: say so before anything changes
            raise RegistryError(f"{version} is not in the model store {self.store}")
        return row

    async def rollback(self, actor: str) -> tuple[str, str]:
        """Give the service back to the version the active one replaced."""
        async with self.conn.transaction():
            await self.conn.execute(self.q.lock_registry)
            active = await self.active()
            if active is None:
                raise RegistryError("no active version: nothing to roll back")
            previous = active["previous_version"]
            if previous is None:
                raise RegistryError(
                    f"{active['version']} replaced no version: nothing to return to"
                )
            await self.conn.execute(self.q.retire_active)
            # the restored version keeps its own predecessor: a second rollback goes further back
            await self.conn.fetchrow(self.q.activate, previous, actor, False, None)
            details = {"from": active["version"], "to": previous}
            await self.conn.execute(self.q.insert_event, previous, "rolled_back", actor, details)
        await self.sync_pointer()
        return active["version"], previous

    async def set_shadow(self, version: str, on: bool, actor: str) -> None:
        async with self.conn.transaction():
            await self.conn.execute(self.q.lock_registry)
            if await self.conn.fetchval(self.q.set_shadow, version, on) is None:
                raise RegistryError(f"{version} is not a registered candidate")
            event = "shadow_on" if on else "shadow_off"
            await self.conn.execute(self.q.insert_event, version, event, actor, {})
        await self.sync_pointer()

    async def sync_pointer(self) -> ActivePointer | None:
        """Rewrite ``active.json`` from the registry when it differs."""
        active = await self.active()
        if active is None:
            return None
        shadow = tuple(r["version"] for r in await self.conn.fetch(self.q.shadow_versions))
        pointer = ActivePointer(active["version"], shadow)
        if read_active(self.store) != pointer:
            write_active(self.store, pointer)
        return pointer

    async def versions(self, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.conn.fetch(self.q.list_versions, limit)]
