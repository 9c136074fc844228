"""Shared pieces of the case API simulator tests: a fixed clock and a served simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.caseapi.simulator import RunningSimulator, run_simulator

NOW = datetime(2025, 6, 18, 3, 0, tzinfo=UTC)
"""Wednesday 18 June 2025, 10h00 in Vietnam: the simulated present."""

TOKEN = "test-token"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        """The current (fake) time."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.current += timedelta(**delta)


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until `condition()` holds; fail the test after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            pytest.fail("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def sim_clock() -> FakeClock:
    """A fake clock at NOW."""
    return FakeClock()


@pytest.fixture
async def sim(sim_clock: FakeClock) -> AsyncIterator[RunningSimulator]:
    """A simulator with 3,000 dossiers as of NOW, served on loopback, on the fake clock."""
    async with run_simulator(
        seed=7, dossiers=3_000, token=TOKEN, now=NOW, clock=sim_clock
    ) as running:
        yield running


@pytest.fixture
async def sim_client(sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    """An authorised HTTP client for the simulator."""
    async with httpx.AsyncClient(base_url=sim.url, headers=sim.headers, timeout=10) as http:
        yield http
