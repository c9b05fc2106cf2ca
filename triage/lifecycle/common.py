"""What the lifecycle commands share: settings, the store, the database, the actor."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from services.classifier.model.artifact import ArtifactError
from services.classifier.model.store import StoreError
from services.classifier.training.data import DataError
from services.router.db import init_connection
from triage.lifecycle.gate import Margins
from triage.lifecycle.registry import Registry, RegistryError
from triage.lifecycle.settings import LifecycleSettings

T = TypeVar("T")


class UsageError(RuntimeError):
    """A command the administrator must give differently (said on stderr, exit 2)."""


def load_settings() -> LifecycleSettings:
    return LifecycleSettings()  # type: ignore[call-arg]


def store_of(settings: LifecycleSettings) -> Path:
    if settings.model_store is None:
        raise UsageError("set TRIAGE_MODEL_STORE to the folder of registered model versions")
    return settings.model_store


def margins_of(settings: LifecycleSettings) -> Margins:
    return Margins(
        settings.promote_max_drop_type_f1,
        settings.promote_max_drop_urgency_f1,
        settings.promote_max_drop_critical_recall,
    )


def add_actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", help="who does this (recorded; default: the login name)")


def actor_of(given: str | None) -> str:
    return given or os.environ.get("USER") or getpass.getuser()


def day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


async def with_registry(
    settings: LifecycleSettings, action: Callable[[Registry], Awaitable[T]]
) -> T:
    """Run ``action`` with a registry on one connection."""
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        await init_connection(conn)
        return await action(Registry(conn, store_of(settings)))
    finally:
        await conn.close()


def run(prog: str, action: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Exit code of ``action``; errors an administrator can act on are one line on stderr."""
    try:
        return asyncio.run(action())
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except DataError as exc:
        print(f"{prog}: invalid data:\n{exc}", file=sys.stderr)
        return 2
    except (RegistryError, StoreError, ArtifactError, OSError, asyncpg.PostgresError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
