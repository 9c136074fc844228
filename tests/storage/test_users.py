"""Chat users: creation, last-seen bookkeeping, settings, races, erasure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import Bucket, UnitOfWorkFactory
from bot.storage.engine import create_engine
from bot.storage.tables import (
    chat_users,
    conversations,
    dossier_owners,
    rate_limits,
    subscriptions,
)
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0, followers, row_count

CODE = "000.00.53.H48-220921-0099"
LOOKUPS = Bucket("lookup-m:account", capacity=1, period_seconds=60)


async def test_get_or_create_creates_once_and_keeps_the_first_language(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        created = await uow.users.get_or_create("telegram", "1001", language="vi", now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        again = await uow.users.get_or_create(
            "telegram", "1001", language="en", now=T0 + timedelta(minutes=1)
        )

    assert again.id == created.id
    assert (again.channel, again.channel_user_id, again.language) == ("telegram", "1001", "vi")
    assert again.blocked is False
    assert again.created_at == T0
    assert again.created_at.tzinfo is not None


async def test_same_platform_id_on_two_channels_is_two_users(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        on_telegram = await uow.users.get_or_create("telegram", "42", language="vi", now=T0)
        on_zalo = await uow.users.get_or_create("zalo", "42", language="vi", now=T0)
        await uow.commit()
    assert on_telegram.id != on_zalo.id


async def test_last_seen_is_written_only_when_an_hour_old(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        await uow.users.get_or_create("zalo", "u1", language="vi", now=T0)
        await uow.commit()

    async with any_uow_factory() as uow:
        soon = await uow.users.get_or_create(
            "zalo", "u1", language="vi", now=T0 + timedelta(minutes=59)
        )
        await uow.commit()
    assert soon.last_seen_at == T0

    later_time = T0 + timedelta(hours=2)
    async with any_uow_factory() as uow:
        later = await uow.users.get_or_create("zalo", "u1", language="vi", now=later_time)
        await uow.commit()
    assert later.last_seen_at == later_time
    async with any_uow_factory() as uow:
        stored = await uow.users.get(later.id)
    assert stored is not None
    assert stored.last_seen_at == later_time
    assert stored.created_at == T0


async def test_get_language_and_blocked(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "7", language="vi", now=T0)
        await uow.users.set_language(user.id, "en")
        await uow.users.set_blocked(user.id, True)
        await uow.commit()
    async with any_uow_factory() as uow:
        stored = await uow.users.get(user.id)
        assert await uow.users.get(user.id + 1000) is None
    assert stored is not None
    assert (stored.language, stored.blocked) == ("en", True)

    async with any_uow_factory() as uow:
        await uow.users.set_blocked(user.id, False)
        await uow.commit()
    async with any_uow_factory() as uow:
        unblocked = await uow.users.get(user.id)
    assert unblocked is not None
    assert unblocked.blocked is False


async def _create_in_own_transaction(factory: SqlUnitOfWorkFactory, user_id: str) -> int:
    async with factory() as uow:
        user = await uow.users.get_or_create("telegram", user_id, language="vi", now=T0)
        await uow.commit()
    return user.id


async def test_concurrent_creation_of_one_user_yields_one_row(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    ids = await asyncio.gather(*(_create_in_own_transaction(uow_factory, "race") for _ in range(8)))
    assert len(set(ids)) == 1
    assert await row_count(engine, chat_users) == 1


async def test_two_processes_creating_one_user_both_succeed(
    database_url: str, engine: AsyncEngine
) -> None:
    # A second engine stands for another process: no shared in-process lock or pool.
    other_engine = create_engine(database_url)
    try:
        first, second = SqlUnitOfWorkFactory(engine), SqlUnitOfWorkFactory(other_engine)
        ids = await asyncio.gather(
            *(_create_in_own_transaction(f, "race") for f in (first, second, first, second))
        )
    finally:
        await other_engine.dispose()
    assert len(set(ids)) == 1
    assert await row_count(engine, chat_users) == 1


async def test_creation_racing_an_uncommitted_insert_gets_the_winner(
    database_url: str, engine: AsyncEngine
) -> None:
    """The loser of the race must see the winner's row once it commits, not fail."""
    other_engine = create_engine(database_url)
    try:
        winner_factory, loser_factory = (
            SqlUnitOfWorkFactory(engine),
            SqlUnitOfWorkFactory(other_engine),
        )
        async with winner_factory() as winner:
            created = await winner.users.get_or_create("telegram", "same", language="vi", now=T0)
            loser = asyncio.create_task(_create_in_own_transaction(loser_factory, "same"))
            await asyncio.sleep(0.2)  # the loser is now blocked behind the open transaction
            assert not loser.done()
            await winner.commit()
        assert await loser == created.id
    finally:
        await other_engine.dispose()


async def test_erase_removes_the_user_and_everything_linked(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "erase-me", language="vi", now=T0)
        other = await uow.users.get_or_create("telegram", "keep-me", language="vi", now=T0)
        for someone in (user, other):
            await uow.owners.add(someone.id, CODE, method="pin", now=T0)
            await uow.subscriptions.subscribe(someone.id, CODE, now=T0)
            await uow.conversations.set(
                someone.id, "await_pin", {"code": CODE}, expires_at=T0 + timedelta(hours=1)
            )
        # Limits are kept under keyed hashes of the platform account, not the user row.
        await uow.rate_limits.reserve([LOOKUPS], now=T0)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.users.erase(user.id)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        assert not await uow.owners.is_owner(user.id, CODE)
        assert await uow.owners.list_for_user(user.id) == []
        assert not await uow.subscriptions.is_subscribed(user.id, CODE)
        assert await followers(uow, CODE) == [other.id]
        assert await uow.conversations.get(user.id, now=T0) is None
        # The other user is untouched.
        assert await uow.users.get(other.id) is not None
        assert await uow.owners.is_owner(other.id, CODE)
        assert await uow.conversations.get(other.id, now=T0) is not None
        # Erasing does not reset limits: the one attempt is still taken.
        assert await uow.rate_limits.retry_after([LOOKUPS], now=T0) is not None

    assert await row_count(engine, chat_users) == 1
    assert await row_count(engine, dossier_owners) == 1
    assert await row_count(engine, subscriptions) == 1
    assert await row_count(engine, conversations) == 1
    assert await row_count(engine, rate_limits) == 1


async def test_erase_of_unknown_user_is_harmless(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        await uow.users.erase(123456)
        await uow.commit()
