"""The storage under the chat tests: the in-memory twin unless a test is marked ``sql``, and
the twin's runtime built with everything `open_runtime` gives but the engine."""

from __future__ import annotations

import dataclasses

import pytest

from bot.composition import Runtime
from bot.storage.memory import MemoryUnitOfWorkFactory
from tests.core.conftest import World
from tests.support.runtime import ChatRuntime, MemoryRuntime, on_sql


async def test_an_unmarked_test_talks_to_the_in_memory_twin(world: World) -> None:
    factory = world.runtime.uow_factory
    assert isinstance(factory, MemoryUnitOfWorkFactory)
    await world.citizen("newcomer").says("/start")
    users = factory.database.tables.users.values()
    assert [u.channel_user_id for u in users] == ["newcomer"]


@pytest.mark.sql
async def test_a_test_marked_sql_talks_to_each_database(world: World, storage: str) -> None:
    runtime = on_sql(world.runtime)
    assert runtime.engine.dialect.name == storage
    await world.citizen("newcomer").says("/start")
    async with runtime.uow_factory() as uow:
        user = await uow.users.get_or_create(
            "console", "newcomer", language="en", now=runtime.clock.now()
        )
    assert not user.first_contact and user.language == "vi"  # the chat made it


def test_the_memory_runtime_has_the_fields_of_the_sql_one_but_the_engine() -> None:
    sql = {field.name for field in dataclasses.fields(Runtime)}
    memory = {field.name for field in dataclasses.fields(MemoryRuntime)}
    assert memory == sql - {"engine"}
    assert {name for name in dir(ChatRuntime) if not name.startswith("_")} <= memory
