"""Limits as reservations: token buckets with a growing back-off, shared through the database.

Each test runs on the in-memory twin, SQLite and PostgreSQL (`any_uow_factory`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import Bucket, Reservation, UnitOfWorkFactory
from bot.storage.tables import rate_limits
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import row_count

# One second before a minute's edge: where fixed windows allowed twice the limit.
NOW = datetime(2025, 3, 14, 10, 0, 59, tzinfo=UTC)
PER_MINUTE = Bucket("lookup-m:a", capacity=10, period_seconds=60)
PER_HOUR = Bucket("lookup-h:a", capacity=60, period_seconds=3600)
PIN = Bucket(
    "pin-d:x", capacity=5, period_seconds=900, max_backoff_seconds=6 * 3600, rest_seconds=86400
)


async def reserve(
    uow_factory: UnitOfWorkFactory, *buckets: Bucket, now: datetime = NOW
) -> Reservation:
    async with uow_factory() as uow:
        reservation = await uow.rate_limits.reserve(list(buckets), now=now)
        await uow.commit()
    return reservation


async def granted(
    uow_factory: UnitOfWorkFactory, bucket: Bucket, times: int, now: datetime = NOW
) -> int:
    results = [await reserve(uow_factory, bucket, now=now) for _ in range(times)]
    return sum(r.granted for r in results)


async def retry_after(uow_factory: UnitOfWorkFactory, bucket: Bucket, now: datetime) -> float:
    async with uow_factory() as uow:
        wait = await uow.rate_limits.retry_after([bucket], now=now)
    return wait or 0.0


async def test_a_bucket_gives_its_capacity_then_refuses_with_the_time_to_wait(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    assert await granted(any_uow_factory, PER_MINUTE, 15) == 10
    refused = await reserve(any_uow_factory, PER_MINUTE)
    assert not refused.granted and refused.refused_key == PER_MINUTE.key
    assert refused.retry_after_seconds == pytest.approx(6, abs=0.01)
    assert await retry_after(any_uow_factory, PER_MINUTE, NOW) == pytest.approx(6, abs=0.01)
    # one attempt comes back per step (60 s / 10)
    later = NOW + timedelta(seconds=6)
    assert await granted(any_uow_factory, PER_MINUTE, 3, now=later) == 1


async def test_no_burst_of_twice_the_limit_across_a_window_edge(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    """Fixed windows let 10 through at 10:00:59 and 10 more at 10:01:00."""
    assert await granted(any_uow_factory, PER_MINUTE, 10) == 10
    after_the_edge = NOW + timedelta(seconds=1)
    assert await granted(any_uow_factory, PER_MINUTE, 10, now=after_the_edge) == 0
    # attempts every second for three minutes: no minute ever holds more than the limit
    # plus what refilled in it (the token bucket's promise)
    stamps: list[datetime] = []
    for second in range(2, 182):
        moment = NOW + timedelta(seconds=second)
        if (await reserve(any_uow_factory, PER_MINUTE, now=moment)).granted:
            stamps.append(moment)
    for start in stamps:
        in_window = [s for s in stamps if start <= s < start + timedelta(seconds=60)]
        assert len(in_window) <= 10


async def test_reservation_is_all_or_nothing(any_uow_factory: UnitOfWorkFactory) -> None:
    tiny = Bucket("lookup-m:b", capacity=1, period_seconds=60)
    assert (await reserve(any_uow_factory, tiny)).granted
    refused = await reserve(any_uow_factory, PER_HOUR, tiny)
    assert refused.refused_key == tiny.key and not refused.taken
    # the hour bucket gave nothing: all 60 are still there
    assert await granted(any_uow_factory, PER_HOUR, 61) == 60


async def test_give_back_returns_the_attempt(any_uow_factory: UnitOfWorkFactory) -> None:
    reservations = [await reserve(any_uow_factory, PIN) for _ in range(5)]
    assert all(r.granted for r in reservations)
    assert not (await reserve(any_uow_factory, PIN)).granted
    async with any_uow_factory() as uow:
        await uow.rate_limits.give_back(reservations[-1])
        await uow.commit()
    assert (await reserve(any_uow_factory, PIN)).granted


async def test_the_back_off_grows_and_is_forgotten_after_a_quiet_day(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    assert await granted(any_uow_factory, PIN, 5) == 5
    now, waits = NOW, []
    for _ in range(5):
        wait = await retry_after(any_uow_factory, PIN, now)
        waits.append(round(wait / 60))
        now += timedelta(seconds=wait)
        assert await granted(any_uow_factory, PIN, 2, now=now) == 1
    assert waits == [3, 6, 12, 24, 48]
    # waiting for the bucket to be full again is not enough: the back-off is remembered
    full = now + timedelta(hours=2)
    assert await granted(any_uow_factory, PIN, 3, now=full) == 1
    # after a quiet day the bucket starts afresh, and housekeeping can drop it before that
    async with any_uow_factory() as uow:
        assert await uow.rate_limits.purge(full + timedelta(hours=1)) == 0
        assert await uow.rate_limits.purge(full + timedelta(days=2)) == 1
        await uow.commit()
    assert await granted(any_uow_factory, PIN, 6, now=full + timedelta(days=2)) == 5


async def test_concurrent_reservations_never_overrun(any_uow_factory: UnitOfWorkFactory) -> None:
    async def one() -> bool:
        return (await reserve(any_uow_factory, PIN, PER_HOUR)).granted

    results = await asyncio.gather(*(one() for _ in range(40)))
    assert sum(results) == 5
    # the refused ones took nothing from the hour bucket
    assert await granted(any_uow_factory, PER_HOUR, 60) == 55


async def test_uncommitted_reservations_take_nothing(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        assert (await uow.rate_limits.reserve([PIN], now=NOW)).granted
    assert await granted(any_uow_factory, PIN, 5) == 5


async def test_purge_keeps_buckets_that_still_limit(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    await reserve(uow_factory, PER_MINUTE, PER_HOUR)
    async with uow_factory() as uow:
        assert await uow.rate_limits.purge(NOW) == 0
        assert await uow.rate_limits.purge(NOW + timedelta(seconds=7)) == 1
        await uow.commit()
    assert await row_count(engine, rate_limits) == 1


async def test_a_key_may_be_reserved_once_per_call(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        with pytest.raises(ValueError, match="once"):
            await uow.rate_limits.reserve([PIN, PIN], now=NOW)


async def test_the_server_secret_is_created_once(any_uow_factory: UnitOfWorkFactory) -> None:
    async def one(candidate: str) -> str:
        async with any_uow_factory() as uow:
            value = await uow.secrets.get_or_create("server", candidate)
            await uow.commit()
        return value

    first = await one("first")
    assert first == "first"
    assert await one("second") == "first"
