"""Fixed-window rate-limit counters shared through the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import UnitOfWorkFactory
from bot.storage.repositories import user_key, window_start
from bot.storage.tables import rate_limit_counters
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0, row_count

# 10:00:30 UTC: half-way through a minute window.
NOW = datetime(2025, 3, 14, 10, 0, 30, tzinfo=UTC)
KEY = user_key("lookup", 1)


def test_window_start_is_aligned_and_timezone_independent() -> None:
    assert window_start(NOW, 60) == datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
    assert window_start(NOW, 3600) == datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
    assert window_start(NOW, 86400) == datetime(2025, 3, 14, tzinfo=UTC)
    in_hanoi = NOW.astimezone(datetime.fromisoformat("2025-01-01T00:00:00+07:00").tzinfo)
    assert window_start(in_hanoi, 60) == window_start(NOW, 60)
    with pytest.raises(ValueError, match="positive"):
        window_start(NOW, 0)
    with pytest.raises(ValueError, match="aware"):
        window_start(NOW.replace(tzinfo=None), 60)


def test_user_key_format() -> None:
    assert user_key("lookup", 42) == "lookup:user:42"
    assert user_key("pin", 7) == "pin:user:7"


async def test_hits_count_up_within_a_window(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        counts = [await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW) for _ in range(3)]
        await uow.commit()
    assert counts == [1, 2, 3]
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=NOW) == 3
        assert (
            await uow.rate_limits.count(KEY, window_seconds=60, now=NOW + timedelta(seconds=29))
            == 3
        )
        assert await uow.rate_limits.count("lookup:user:2", window_seconds=60, now=NOW) == 0


async def test_a_new_window_starts_from_one_and_drops_the_old_row(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW)
        await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW + timedelta(seconds=29))
        assert (
            await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW + timedelta(seconds=30)) == 1
        )
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=NOW) == 0
        await uow.commit()
    async with engine.connect() as conn:
        starts = (await conn.execute(select(rate_limit_counters.c.window_start))).scalars().all()
    assert starts == [datetime(2025, 3, 14, 10, 1, tzinfo=UTC)]


async def test_a_hit_stamped_in_an_earlier_window_counts_in_the_current_one(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    """A process whose clock lags must not restart a key's window nor escape its limit."""
    later = NOW + timedelta(seconds=30)  # the next minute window
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.hit(KEY, window_seconds=60, now=later) == 1
        assert await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW) == 2
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=later) == 2
        await uow.commit()


async def test_keys_are_independent_and_reset_forgets(any_uow_factory: UnitOfWorkFactory) -> None:
    pin_key = user_key("pin", 1)
    async with any_uow_factory() as uow:
        await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW)
        await uow.rate_limits.hit(pin_key, window_seconds=900, now=NOW)
        await uow.rate_limits.hit(pin_key, window_seconds=900, now=NOW)
        await uow.rate_limits.reset(pin_key)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.count(pin_key, window_seconds=900, now=NOW) == 0
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=NOW) == 1
        assert await uow.rate_limits.hit(pin_key, window_seconds=900, now=NOW) == 1


async def test_purge_deletes_windows_started_before(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.rate_limits.hit(
            "abandoned:user:1", window_seconds=60, now=NOW - timedelta(days=2)
        )
        await uow.rate_limits.hit(
            "abandoned:user:2", window_seconds=60, now=NOW - timedelta(hours=2)
        )
        await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW)
        assert await uow.rate_limits.purge(NOW - timedelta(days=1)) == 1
        assert await uow.rate_limits.purge(NOW - timedelta(days=1)) == 0
        await uow.commit()
    assert await row_count(engine, rate_limit_counters) == 2


async def test_concurrent_hits_are_all_counted(any_uow_factory: UnitOfWorkFactory) -> None:
    async def one_hit() -> int:
        async with any_uow_factory() as uow:
            count = await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW)
            await uow.commit()
        return count

    counts = await asyncio.gather(*(one_hit() for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=NOW) == 20


async def test_uncommitted_hits_do_not_count(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        await uow.rate_limits.hit(KEY, window_seconds=60, now=NOW)
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.count(KEY, window_seconds=60, now=NOW) == 0


async def test_hit_many_counts_each_key_in_one_call(any_uow_factory: UnitOfWorkFactory) -> None:
    start = T0
    async with any_uow_factory() as uow:
        first = await uow.rate_limits.hit_many([("a:m", 60), ("a:h", 3600)], now=start)
        second = await uow.rate_limits.hit_many([("a:m", 60), ("a:h", 3600)], now=start)
        assert first == [1, 1]
        assert second == [2, 2]
        # a new minute window starts again at 1 while the hour keeps counting
        later = start + timedelta(seconds=61)
        third = await uow.rate_limits.hit_many([("a:m", 60), ("a:h", 3600)], now=later)
        assert third[0] == 1
        assert third[1] == (3 if later.timestamp() // 3600 == start.timestamp() // 3600 else 1)
        await uow.commit()
