"""Conversation state: replace, expire, clear, purge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import UnitOfWorkFactory
from bot.storage.tables import conversations
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0, row_count

CODE = "000.00.53.H48-220921-0099"


async def _new_user(factory: SqlUnitOfWorkFactory, channel_user_id: str = "1") -> int:
    async with factory() as uow:
        user = await uow.users.get_or_create("telegram", channel_user_id, language="vi", now=T0)
        await uow.commit()
    return user.id


async def test_set_then_get_round_trips_json(any_uow_factory: UnitOfWorkFactory) -> None:
    user_id = await _new_user(any_uow_factory)
    data = {"code": CODE, "attempts": 2, "question": None, "answers": [5, 4], "note": "Hộ tịch"}
    expires = T0 + timedelta(minutes=10)
    async with any_uow_factory() as uow:
        await uow.conversations.set(user_id, "await_pin", data, expires_at=expires)
        await uow.commit()
    async with any_uow_factory() as uow:
        state = await uow.conversations.get(user_id, now=T0)
    assert state is not None
    assert (state.kind, state.data, state.expires_at) == ("await_pin", data, expires)


async def test_set_replaces_the_previous_state(any_uow_factory: UnitOfWorkFactory) -> None:
    user_id = await _new_user(any_uow_factory)
    async with any_uow_factory() as uow:
        await uow.conversations.set(
            user_id, "await_pin", {"code": CODE}, expires_at=T0 + timedelta(minutes=5)
        )
        await uow.conversations.set(
            user_id, "survey", {"question": 3}, expires_at=T0 + timedelta(days=7)
        )
        await uow.commit()
    async with any_uow_factory() as uow:
        state = await uow.conversations.get(user_id, now=T0 + timedelta(days=1))
    assert state is not None
    assert (state.kind, state.data) == ("survey", {"question": 3})


async def test_expired_state_is_not_returned(any_uow_factory: UnitOfWorkFactory) -> None:
    user_id = await _new_user(any_uow_factory)
    expires = T0 + timedelta(minutes=10)
    async with any_uow_factory() as uow:
        await uow.conversations.set(user_id, "await_pin", {"code": CODE}, expires_at=expires)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert (
            await uow.conversations.get(user_id, now=expires - timedelta(microseconds=1))
            is not None
        )
        assert await uow.conversations.get(user_id, now=expires) is None
        assert await uow.conversations.get(user_id, now=expires + timedelta(days=1)) is None


async def test_clear_forgets(any_uow_factory: UnitOfWorkFactory) -> None:
    user_id = await _new_user(any_uow_factory)
    async with any_uow_factory() as uow:
        await uow.conversations.set(user_id, "await_pin", {}, expires_at=T0 + timedelta(hours=1))
        await uow.conversations.clear(user_id)
        await uow.conversations.clear(user_id)  # clearing nothing is fine
        assert await uow.conversations.get(user_id, now=T0) is None


async def test_purge_expired(engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory) -> None:
    stale, fresh = await _new_user(uow_factory, "1"), await _new_user(uow_factory, "2")
    async with uow_factory() as uow:
        await uow.conversations.set(stale, "await_pin", {}, expires_at=T0 - timedelta(seconds=1))
        await uow.conversations.set(fresh, "survey", {}, expires_at=T0 + timedelta(days=1))
        assert await uow.conversations.purge_expired(T0) == 1
        await uow.commit()
    assert await row_count(engine, conversations) == 1
