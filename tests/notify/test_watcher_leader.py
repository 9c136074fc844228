"""Only one process polls: the lease on both databases, and the scheduled watcher (on the
in-memory twin of the storage: the schedule and the stand-by are the point there). PostgreSQL's
advisory lock is tested with the storage (tests/storage/test_leader.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from bot.composition import watcher_schedule
from bot.domain.dossier import Dossier
from bot.notify.leader import LeaseLeaderLock
from bot.notify.watcher import Watcher
from bot.ports import ChangesPage
from bot.storage.engine import DatabaseEngine
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.notify.watch_support import T0, FakeClock


class CountingFeed:
    """A changes feed with nothing new; counts the requests it answers."""

    def __init__(self) -> None:
        self.requests = 0
        self.polled = asyncio.Event()

    async def get_dossier(self, code: str) -> Dossier:
        raise AssertionError("not used")

    async def verify(self, code: str, **_: object) -> bool:
        raise AssertionError("not used")

    async def changes(self, cursor: str | None = None, limit: int = 500) -> ChangesPage:
        self.requests += 1
        self.polled.set()
        items: Sequence[Dossier] = ()
        return ChangesPage(items=items, cursor="c-1")


async def test_the_sqlite_lease_passes_to_a_stand_by_only_when_it_lapses(
    engine: DatabaseEngine, database_backend: str
) -> None:
    clock = FakeClock(T0)
    factory = SqlUnitOfWorkFactory(engine, clock)
    first = LeaseLeaderLock(factory, clock, ttl=timedelta(seconds=30), holder="a")
    second = LeaseLeaderLock(factory, clock, ttl=timedelta(seconds=30), holder="b")
    assert await first.acquire()
    assert not await second.acquire()
    clock.advance(timedelta(seconds=20))
    assert await first.acquire()  # renewed until T0 + 50 s
    clock.advance(timedelta(seconds=20))
    assert not await second.acquire()
    clock.advance(timedelta(seconds=11))  # the leader died: its lease lapsed
    assert await second.acquire()
    assert not await first.acquire()
    await second.release()
    assert await first.acquire()


async def test_the_started_watcher_polls_every_interval_and_stops() -> None:
    feed = CountingFeed()
    factory = MemoryUnitOfWorkFactory(clock=FakeClock(T0))
    watcher = Watcher(factory, feed, factory.clock, poll_interval=0.2)
    jobs = watcher_schedule(watcher, poll_interval=0.2)
    await jobs.start()
    try:
        async with asyncio.timeout(5):
            await feed.polled.wait()  # the first cycle runs at once
            while feed.requests < 3:  # noqa: ASYNC110 - counting cycles
                await asyncio.sleep(0.05)
    finally:
        await jobs.stop()
        await watcher.release()
    settled = feed.requests
    await asyncio.sleep(0.5)
    assert feed.requests == settled


async def test_a_stand_by_watcher_does_not_poll() -> None:
    feed = CountingFeed()
    factory = MemoryUnitOfWorkFactory(clock=FakeClock(T0))
    leader = Watcher(factory, feed, factory.clock)
    stand_by = Watcher(factory, feed, factory.clock)
    try:
        assert (await leader.poll_once()).leader
        report = await stand_by.poll_once()
        assert not report.leader
        assert report.requests == 0
        assert feed.requests == 1
    finally:
        await leader.release()
        await stand_by.release()
