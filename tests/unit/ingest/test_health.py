"""Ingest readiness from the broker's answers, without a broker."""

from __future__ import annotations

import asyncio

import pytest

from services.ingest import health
from services.ingest.health import BrokerHealth, broker_problem, check_once, watch_broker


def test_not_ready_until_connected() -> None:
    assert broker_problem(BrokerHealth(), now=100.0) == "not connected to the broker"


def test_ready_while_the_broker_answers() -> None:
    state = BrokerHealth(connected=True)
    state.answered(at=100.0)
    assert broker_problem(state, now=101.0) is None


def test_a_failed_check_makes_it_not_ready_and_an_answer_ready_again() -> None:
    state = BrokerHealth(connected=True)
    state.answered(at=100.0)
    state.check_failed("no answer within 2 s")
    problem = broker_problem(state, now=101.0)
    assert problem == "the broker did not answer the last check (no answer within 2 s)"
    state.answered(at=102.0)
    assert broker_problem(state, now=102.5) is None


def test_no_answer_for_too_long_is_not_ready() -> None:
    state = BrokerHealth(connected=True)
    state.answered(at=100.0)
    assert broker_problem(state, now=100.0 + health.STALE_AFTER_S - 1) is None
    problem = broker_problem(state, now=100.0 + health.STALE_AFTER_S + 1)
    assert problem is not None and problem.startswith("no answer from the broker for")


async def test_check_once_records_each_outcome() -> None:
    state = BrokerHealth(connected=True)

    async def answers(_: float) -> bool:
        return True

    async def silent(_: float) -> bool:
        return False

    async def refuses(_: float) -> bool:
        raise ConnectionRefusedError

    assert await check_once(answers, state)
    assert state.failed is None and state.answered_at is not None
    assert not await check_once(silent, state, timeout_s=2.0)
    assert state.failed == "no answer within 2 s"
    assert not await check_once(refuses, state)
    assert state.failed == "ConnectionRefusedError"
    assert await check_once(answers, state)
    assert broker_problem(state, now=state.answered_at) is None


async def test_a_failed_publish_triggers_a_check_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "MIN_GAP_S", 0.0)
    state = BrokerHealth(connected=True)
    checks = 0
    checked = asyncio.Event()

    async def ping(_: float) -> bool:
        nonlocal checks
        checks += 1
        checked.set()
        return checks == 1  # the broker goes away after the first check

    watcher = asyncio.create_task(watch_broker(ping, state, interval_s=60.0))
    try:
        async with asyncio.timeout(5):
            await checked.wait()
            assert state.failed is None
            checked.clear()
            state.suspect()  # what Publisher does when a publish fails
            await checked.wait()  # long before the 60 s interval
        assert checks == 2 and state.failed is not None
    finally:
        watcher.cancel()
