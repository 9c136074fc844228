"""The in-memory rate-limit repository answers exactly as the SQL one, on both databases."""

from __future__ import annotations

import random
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import Bucket, Reservation
from bot.storage.memory import BucketRow, MemoryRateLimitRepository
from bot.storage.tables import rate_limits
from bot.storage.uow import SqlUnitOfWorkFactory

START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def buckets(prefix: str) -> list[Bucket]:
    return [
        Bucket(f"{prefix}:m", capacity=3, period_seconds=60),
        Bucket(f"{prefix}:h", capacity=5, period_seconds=600),
        Bucket(f"{prefix}:p", 2, 300, max_backoff_seconds=3600, rest_seconds=7200),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_memory_and_sql_agree_step_for_step(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, seed: int
) -> None:
    rng = random.Random(seed)
    pool = buckets(f"twin{seed}")
    memory = MemoryRateLimitRepository()
    now = START
    granted: list[Reservation] = []
    for _ in range(200):
        move = rng.random()
        if move < 0.25:
            now += timedelta(milliseconds=rng.choice([1, 500, 20_000, 200_000, 3_000_000]))
            continue
        async with uow_factory() as uow:
            if move < 0.35 and granted:
                back = granted.pop(rng.randrange(len(granted)))
                await uow.rate_limits.give_back(back)
                await memory.give_back(back)
            elif move < 0.4:
                assert await uow.rate_limits.purge(now) == await memory.purge(now)
            else:
                chosen = rng.sample(pool, rng.randint(1, len(pool)))
                sql = await uow.rate_limits.reserve(chosen, now=now)
                mem = await memory.reserve(chosen, now=now)
                assert sql == mem
                if sql.granted:
                    granted.append(sql)
                assert await uow.rate_limits.retry_after(pool, now=now) == (
                    await memory.retry_after(pool, now=now)
                )
            await uow.commit()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(rate_limits))).all()
    stored = {row.key: BucketRow(*row[1:]) for row in rows if row.key.startswith(f"twin{seed}")}
    assert {k: astuple(v) for k, v in stored.items()} == {
        k: astuple(v) for k, v in memory.rows.items()
    }
