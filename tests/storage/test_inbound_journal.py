"""The inbound journal service (`bot.inbound`) on every storage: admit once (also when the same
update arrives concurrently), finish, take over after the lease, renew, set aside, purge.
The port itself is checked in the conformance suite."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound import InboundJournal
from bot.ports import UnitOfWorkFactory
from bot.storage.tables_inbound import inbound_updates
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import FakeClock

LEASE = timedelta(seconds=60)


def _journal(factory: UnitOfWorkFactory, clock: FakeClock, **options: object) -> InboundJournal:
    return InboundJournal(factory, clock, lease=LEASE, **options)  # type: ignore[arg-type]


async def test_an_update_is_admitted_once_even_when_delivered_concurrently(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    journal = _journal(any_uow_factory, FakeClock())
    results = await asyncio.gather(
        *(journal.admit("telegram", [("42", '{"update_id": 42}')]) for _ in range(5))
    )
    assert sorted(len(fresh) for fresh in results) == [0, 0, 0, 0, 1]
    assert await journal.admit("telegram", [("42", "{}")]) == set()
    # Keys are per channel.
    assert await journal.admit("zalo", [("42", "{}")]) == {"42"}


async def test_a_batch_keeps_its_content_until_done_and_only_the_key_after(
    engine: AsyncEngine,
) -> None:
    journal = _journal(SqlUnitOfWorkFactory(engine), FakeClock())
    fresh = await journal.admit("telegram", [("1", "one"), ("2", "two"), ("3", "three")])
    assert fresh == {"1", "2", "3"}
    await asyncio.gather(journal.finish("telegram", "1"), journal.finish("telegram", "2"))
    async with engine.connect() as conn:
        rows = {
            row.update_key: (row.state, row.payload)
            for row in await conn.execute(select(inbound_updates))
        }
    assert rows == {"1": ("done", None), "2": ("done", None), "3": ("pending", "three")}
    # A done update delivered again is still a repeat.
    assert await journal.admit("telegram", [("1", "one")]) == set()


async def test_unfinished_updates_are_taken_over_when_their_lease_ran_out(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    clock = FakeClock()
    crashed = _journal(any_uow_factory, clock).for_channel("zalo")
    await crashed.admit([("a", "A"), ("b", "B")])
    await crashed.done("b")

    survivor = _journal(any_uow_factory, clock).for_channel("zalo")
    assert await survivor.recover() == [], "the lease still runs"
    clock.advance(LEASE + timedelta(seconds=1))
    [taken] = await survivor.recover()
    assert (taken.key, taken.payload, taken.attempts) == ("a", "A", 2)
    assert await survivor.recover() == [], "now leased to the survivor"
    assert survivor.in_hand == 1


async def test_the_only_poller_takes_every_pending_update_at_once(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    clock = FakeClock()
    await _journal(any_uow_factory, clock).admit("telegram", [("7", "x"), ("8", "y")])
    restarted = _journal(any_uow_factory, clock).for_channel("telegram")
    taken = await restarted.recover(everything=True)
    assert [update.key for update in taken] == ["7", "8"]


async def test_a_renewed_lease_is_not_taken_over(any_uow_factory: UnitOfWorkFactory) -> None:
    clock = FakeClock()
    working = _journal(any_uow_factory, clock)
    await working.admit("zalo", [("slow", "s")])
    clock.advance(LEASE - timedelta(seconds=5))
    await working.extend("zalo", ["slow"])
    clock.advance(timedelta(seconds=30))
    assert await _journal(any_uow_factory, clock).for_channel("zalo").recover() == []


async def test_an_update_that_never_finishes_is_set_aside(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    clock = FakeClock()
    await _journal(any_uow_factory, clock).admit("telegram", [("poison", "p")])
    for _ in range(2):  # it killed the process twice more
        clock.advance(LEASE * 2)
        assert len(await _journal(any_uow_factory, clock).for_channel("telegram").recover()) == 1
    clock.advance(LEASE * 2)
    assert await _journal(any_uow_factory, clock).for_channel("telegram").recover() == []
    everything = _journal(any_uow_factory, clock).for_channel("telegram")
    assert await everything.recover(everything=True) == [], "set aside, not pending"


async def test_finished_updates_are_purged_after_the_keep_period(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    clock = FakeClock()
    journal = _journal(any_uow_factory, clock, keep=timedelta(days=3))
    await journal.admit("telegram", [("1", "x"), ("2", "y")])
    await journal.finish("telegram", "1")
    clock.advance(timedelta(days=4))
    assert await journal.purge() == 1
    [pending] = await journal.for_channel("telegram").recover(everything=True)
    assert pending.key == "2"  # the pending one stays
