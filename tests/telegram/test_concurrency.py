"""The update processor: bounded concurrency, one user's updates in order."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import ScriptedCore, running_channel


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_burst_from_one_user_does_not_take_every_slot(
    fake: FakeTelegram, mode: str
) -> None:
    core = ScriptedCore(slow_seconds=0.5)
    async with running_channel(fake, mode, core, max_concurrency=2):
        for n in range(4):
            await fake.send_text(1, f"slow {n}")
        await fake.send_text(2, "quick")

        await fake.wait_for_messages(2, 1, within=0.4)
        assert len(fake.messages(1)) <= 1
        await fake.wait_for_messages(1, 4, within=4)

    assert fake.texts(1) == [f"echo: slow {n}" for n in range(4)]


async def test_concurrency_is_bounded(fake: FakeTelegram) -> None:
    core = ScriptedCore(slow_seconds=0.3)
    async with running_channel(fake, "polling", core, max_concurrency=3):
        for user in range(10, 20):
            await fake.send_text(user, "slow")
        await fake.wait_until(lambda: all(fake.messages(u) for u in range(10, 20)), within=5)

    assert core.max_active == 3


async def test_many_users_are_served_concurrently(fake: FakeTelegram) -> None:
    core = ScriptedCore(slow_seconds=0.5)
    async with running_channel(fake, "webhook", core):
        await asyncio.gather(*(fake.send_text(user, "slow") for user in range(100, 150)))
        await fake.wait_until(lambda: all(fake.messages(u) for u in range(100, 150)), within=5)

    assert core.max_active > 10  # 50 lookups of 0.5 s each would take 25 s one at a time
