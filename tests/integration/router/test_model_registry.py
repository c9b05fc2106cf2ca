"""The model registry on a real PostgreSQL: register, the gate, force, rollback, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.classifier.model.store import read_active
from services.router.db import init_connection
from triage.lifecycle.gate import Margins
from triage.lifecycle.registry import Registry, RegistryError

A, B, C = "m-aaaaaaaaaaaaaaaa", "m-bbbbbbbbbbbbbbbb", "m-cccccccccccccccc"


def manifest(version: str) -> dict[str, Any]:
    return {
        "model_version": version,
        "training": {"sha256": "0" * 64, "rows": 10},
        "embedder": {"backend": "hashing", "name": "hashing-64", "dim": 64},
    }


def compared(type_f1: float, against: str = A) -> dict[str, Any]:
    numbers = {"urgency_macro_f1": 0.7, "critical_recall": 1.0}
    return {"holdout": {
        "rows": 20, "active_version": against,
        "candidate": {"type_macro_f1": type_f1, **numbers},
        "active": {"type_macro_f1": 0.8, **numbers},
    }}  # fmt: skip


@pytest.fixture
async def registry(migrated_url: str, tmp_path: Path) -> Any:
    for version in (A, B, C):  # the artifacts, as far as promote looks at them
        (tmp_path / version).mkdir()
        (tmp_path / version / "manifest.json").write_text("{}")
    conn = await asyncpg.connect(migrated_url)
    await init_connection(conn)
    try:
        yield Registry(conn, tmp_path)
    finally:
        await conn.close()


async def test_promotion_gate_force_and_rollback_are_audited(registry: Registry) -> None:
    for version, metrics in ((A, {}), (B, compared(0.81)), (C, compared(0.5))):
        assert await registry.register(manifest(version), Path("/x") / version, metrics, None, "ci")
    assert not await registry.register(manifest(A), Path("/x") / A, {}, None, "ci")  # once

    first = await registry.promote(A, "ann", Margins())
    assert first.done and first.previous is None
    assert read_active(registry.store).version == A  # type: ignore[union-attr]

    refused = await registry.promote(C, "ann", Margins())
    assert not refused.done and "WORSE" in refused.decision.describe()
    assert (await registry.active())["version"] == A  # type: ignore[index]

    assert (await registry.promote(B, "ann", Margins())).done
    assert read_active(registry.store).version == B  # type: ignore[union-attr]

    forced = await registry.promote(C, "bob", Margins(), force=True)  # compared with A: stale
    assert forced.forced and (await registry.get(C))["forced"]  # type: ignore[index]

    assert await registry.rollback("bob") == (C, B)
    assert await registry.rollback("bob") == (B, A)
    with pytest.raises(RegistryError, match="replaced no version"):
        await registry.rollback("bob")
    assert read_active(registry.store).version == A  # type: ignore[union-attr]

    events = await registry.conn.fetch("SELECT version, event, actor FROM model_events ORDER BY id")
    assert [(e["version"], e["event"]) for e in events][3:] == [
        (A, "registered"), (A, "promoted"), (C, "promotion_refused"), (B, "promoted"),
        (C, "promoted"), (B, "rolled_back"), (A, "rolled_back"),
    ]  # fmt: skip
    states = {r["version"]: r["state"] for r in await registry.versions()}
    assert states == {A: "active", B: "retired", C: "retired"}


async def test_shadow_is_for_candidates_and_reaches_the_pointer(registry: Registry) -> None:
    for version in (A, B):
        await registry.register(manifest(version), Path("/x") / version, {}, None, "ci")
    await registry.promote(A, "ann", Margins())
    await registry.set_shadow(B, True, "ann")
    assert read_active(registry.store).shadow == (B,)  # type: ignore[union-attr]
    with pytest.raises(RegistryError, match="not a registered candidate"):
        await registry.set_shadow(A, True, "ann")
    (registry.store / B / "manifest.json").unlink()
    with pytest.raises(RegistryError, match="not in the model store"):
        await registry.promote(B, "ann", Margins())
