"""Destructive buttons act only with a fresh confirmation token bound to the citizen.

On the in-memory twin of the storage, but for the replayed erase button: whether the user row
made after an erasure differs from the erased one (its id, its creation time) is the
database's doing, so that test runs on SQLite and PostgreSQL (marked ``sql``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.payloads import Action
from tests.core.conftest import FixedClock
from tests.core.one_dossier import CODE, PIN, Bot, running_bot

REFUSED = "không còn hiệu lực"


async def verified(bot: Bot, account: str) -> None:
    await bot.say(account, payload=f"vf:{CODE}")
    assert "Đã xác minh" in await bot.say(account, text=PIN)


async def still_mine(bot: Bot, account: str) -> bool:
    return CODE in await bot.say(account, text="/mine")


async def test_erase_needs_the_token_shown_to_this_citizen(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        await verified(bot, "alice")
        for forged in ("fy:", "fy:~0~AAAAAAAAAAAA", "fy:~zzzzzz~not-a-mac", "fy:" + "~" * 3):
            screen = await bot.say("alice", payload=forged)
            assert REFUSED in screen and "/forget" in screen
        assert await still_mine(bot, "alice")

        # Bob's own genuine button does not erase Alice (nor Bob, pressed by Alice)
        bobs = (await bot.say("bob", text="/forget")).button(Action.FORGET_YES)
        assert REFUSED in await bot.say("alice", payload=bobs)
        assert await still_mine(bot, "alice")

        alices = (await bot.say("alice", text="/forget")).button(Action.FORGET_YES)
        assert "Đã xóa" in await bot.say("alice", payload=alices)
        assert not await still_mine(bot, "alice")


@pytest.mark.sql  # the new user row after the erasure is the database's
async def test_a_replayed_erase_button_erases_nothing(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        await verified(bot, "carol")
        button = (await bot.say("carol", text="/forget")).button(Action.FORGET_YES)
        assert "Đã xóa" in await bot.say("carol", payload=button)
        # Carol comes back and confirms her dossier again; the old button is pressed again
        await verified(bot, "carol")
        assert REFUSED in await bot.say("carol", payload=button)
        assert await still_mine(bot, "carol")


async def test_an_old_erase_button_has_expired(storage_url: str) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    async with running_bot(storage_url, clock=clock) as bot:
        await verified(bot, "dan")
        button = (await bot.say("dan", text="/forget")).button(Action.FORGET_YES)
        clock.current += timedelta(hours=1)
        assert REFUSED in await bot.say("dan", payload=button)
        assert await still_mine(bot, "dan")


async def test_stopping_notices_without_a_token_asks_first(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        await verified(bot, "erin")
        # a pushed notice's button, or a forged one, carries no token: the bot asks
        question = await bot.say("erin", payload=f"us:{CODE}")
        assert "Tắt thông báo về hồ sơ" in question
        assert "🔔" in await bot.say("erin", text="/mine")
        stopped = await bot.say("erin", payload=question.button(Action.UNSUBSCRIBE))
        assert f"Đã tắt thông báo về hồ sơ {CODE}" in stopped
        assert "🔕" in await bot.say("erin", text="/mine")

        # the same for "stop all notices"
        await bot.say("erin", payload=f"sb:{CODE}")
        question = await bot.say("erin", payload="ua:")
        assert "tất cả hồ sơ" in question
        assert "🔔" in await bot.say("erin", text="/mine")
        screen = await bot.say("erin", payload=question.button(Action.UNSUBSCRIBE_ALL))
        assert "1 hồ sơ" in screen


async def test_a_stranger_pressing_stop_gets_nothing_stopped(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        await verified(bot, "frank")
        mine = await bot.say("frank", text=CODE)
        stop = mine.button(Action.UNSUBSCRIBE)
        screen = await bot.say("mallory", payload=stop)
        assert "Tắt thông báo" not in screen  # nothing to ask a non-subscriber
        assert "🔔" in await bot.say("frank", text="/mine")
