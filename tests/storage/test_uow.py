"""Unit-of-work semantics: commit, rollback, one transaction, connections returned."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import Bucket, UnitOfWorkFactory
from bot.storage.tables import chat_users
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0, row_count


async def _lookup_through_the_port(factory: UnitOfWorkFactory, channel_user_id: str) -> int:
    """What a handler does, seeing only `bot.ports`."""
    async with factory() as uow:
        user = await uow.users.get_or_create("telegram", channel_user_id, language="vi", now=T0)
        bucket = Bucket(f"lookup-m:{channel_user_id}", capacity=2, period_seconds=60)
        await uow.rate_limits.reserve([bucket], now=T0)
        await uow.owners.is_owner(user.id, "000.00.53.H48-220921-0099")
        await uow.commit()
    return user.id


async def test_commit_makes_changes_visible(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.commit()
    assert await row_count(engine, chat_users) == 1


async def test_leaving_without_commit_rolls_back(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
    assert await row_count(engine, chat_users) == 0


async def test_an_exception_rolls_back_and_propagates(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async def failing_handler() -> None:
        async with uow_factory() as uow:
            await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_handler()
    assert await row_count(engine, chat_users) == 0


async def test_work_after_a_commit_needs_its_own_commit(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.commit()
        await uow.users.get_or_create("telegram", "2", language="vi", now=T0)
    assert await row_count(engine, chat_users) == 1


async def test_explicit_rollback(engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.rollback()
        await uow.users.get_or_create("telegram", "2", language="vi", now=T0)
        await uow.commit()
    async with engine.connect() as conn:
        ids = (await conn.execute(select(chat_users.c.channel_user_id))).scalars().all()
    assert ids == ["2"]


async def test_changes_are_invisible_to_others_until_commit(
    uow_factory: SqlUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        # Read from outside the unit of work while it is open (SQLite: WAL lets readers in).
        assert await row_count(engine, chat_users) == 0
        await uow.commit()
    assert await row_count(engine, chat_users) == 1


async def test_a_unit_of_work_cannot_be_entered_twice(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow = uow_factory()
    async with uow:
        with pytest.raises(RuntimeError, match="twice"):
            await uow.__aenter__()


async def test_commit_outside_the_block_is_an_error(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="not open"):
        await uow.commit()
    async with uow:
        pass
    with pytest.raises(RuntimeError, match="not open"):
        await uow.commit()


async def test_many_units_of_work_return_their_connections(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    """More units of work than the pool holds, sequential and concurrent, with failures."""

    async def one(n: int) -> None:
        async with uow_factory() as uow:
            await uow.users.get_or_create("telegram", str(n), language="vi", now=T0)
            if n % 3 == 0:
                raise ValueError(n)
            await uow.commit()

    for n in range(40):
        with pytest.raises(ValueError, match=str(n)) if n % 3 == 0 else contextlib.nullcontext():
            await one(n)
    results = await asyncio.gather(*(one(n) for n in range(40, 80)), return_exceptions=True)
    assert sum(isinstance(r, ValueError) for r in results) == 13
    assert all(r is None or isinstance(r, ValueError) for r in results)
    assert await row_count(engine, chat_users) == 80 - 27


async def test_the_factory_is_the_port(uow_factory: SqlUnitOfWorkFactory) -> None:
    factory: UnitOfWorkFactory = uow_factory  # mypy checks the structural match
    first = await _lookup_through_the_port(factory, "1")
    assert await _lookup_through_the_port(factory, "1") == first
    async with factory() as uow:
        both_taken = Bucket("lookup-m:1", capacity=2, period_seconds=60)
        assert await uow.rate_limits.retry_after([both_taken], now=T0) is not None
