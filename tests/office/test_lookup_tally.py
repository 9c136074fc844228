"""Lookups reach the officials' usage figures: counted in memory, written in batches
(`bot.usage`), nothing lost when a write fails or when the process stops."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.caseapi.simulator import run_simulator
from bot.composition import open_runtime
from bot.demo import fetch_samples
from bot.domain.office import UsageReport
from bot.messages import Incoming
from bot.ports import UnitOfWorkFactory
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.usage import LookupTally
from tests.core.conftest import settings_for

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


async def _usage(uow_factory: UnitOfWorkFactory, day: int) -> UsageReport:
    async with uow_factory() as uow:
        return await uow.office.usage(first_day=day, last_day=day, agencies=None, tz=HANOI)


def _today() -> int:
    local = datetime.now(HANOI)
    return local.year * 10000 + local.month * 100 + local.day


async def test_lookups_are_counted_per_agency_once_written(database_url: str) -> None:
    async with run_simulator(seed=7, dossiers=3000, token="sim-token") as sim:
        samples = list((await fetch_samples(sim.url, "sim-token")).values())
        settings = settings_for(database_url, sim.url, "sim-token")
        first, second = samples[0].code, samples[1].code
        async with open_runtime(settings) as runtime:
            await runtime.core(Incoming("test", "a", text=first))
            await runtime.core(Incoming("test", "b", text=f"{first} và {second}"))
            assert runtime.lookups.pending == 3
            assert await runtime.lookups.flush(runtime.uow_factory) == 3
            assert runtime.lookups.pending == 0
            report = await _usage(runtime.uow_factory, _today())
            assert report.lookups_per_day == {_today(): 3}
            await runtime.core(Incoming("test", "a", text=second))  # written on close
        async with open_runtime(settings) as runtime:
            report = await _usage(runtime.uow_factory, _today())
    expected: dict[str, int] = {}
    for code in (first, first, second, second):
        agency = code.partition("-")[0]
        expected[agency] = expected.get(agency, 0) + 1
    assert report.lookups_per_day == {_today(): 4}
    assert {a.agency_code: a.lookups for a in report.agencies if a.lookups} == expected


class _Unavailable:
    """A unit-of-work factory whose database is down."""

    def __call__(self) -> object:
        raise ConnectionError("database down")


async def test_a_failed_write_keeps_the_counts_for_the_next() -> None:
    tally = LookupTally()
    tally.count(["000.00.01.H26", "000.00.01.H26", "000.00.02.H26"], day=20261130)
    tally.count(["000.00.01.H26"], day=20261201)
    with pytest.raises(ConnectionError):
        await tally.flush(_Unavailable())  # type: ignore[arg-type]
    assert tally.pending == 4
    store = MemoryUnitOfWorkFactory()
    assert await tally.flush(store) == 4
    assert await tally.flush(store) == 0  # nothing twice
    first = await _usage(store, 20261130)
    assert first.lookups_per_day == {20261130: 3}
    assert {a.agency_code: a.lookups for a in first.agencies} == {
        "000.00.01.H26": 2,
        "000.00.02.H26": 1,
    }
    assert (await _usage(store, 20261201)).lookups_per_day == {20261201: 1}
