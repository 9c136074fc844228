"""Limits that hold under concurrency and erasure, and that strangers cannot turn on the owner.

The bot runs whole (real core) against a case API fake on loopback that counts what reaches
it and answers after a chosen delay. Reservations under concurrency and across an erasure run
on SQLite and PostgreSQL (marked ``sql``); the rest on the in-memory twin of the storage.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.deeplink import make_payload
from bot.payloads import Action
from tests.core.conftest import FixedClock
from tests.core.one_dossier import CODE, LINK_SECRET, PHONE, PIN, running_bot


def wrong_pin(n: int) -> str:
    return f"{100000 + n:06d}"


@pytest.mark.sql  # forty transactions racing for the same rate-limit rows
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3], ids=["0ms", "50ms", "300ms"])
async def test_forty_parallel_wrong_pins_never_pass_the_dossier_limit(
    storage_url: str, delay: float
) -> None:
    async with running_bot(storage_url, delay) as bot:
        limit = bot.runtime.settings.pin_attempts_per_dossier
        accounts = [f"guesser-{n}" for n in range(40)]
        for account in accounts:
            assert "PIN" in await bot.say(account, payload=f"vf:{CODE}")
        answers = await asyncio.gather(
            *(bot.say(account, text=wrong_pin(n)) for n, account in enumerate(accounts))
        )
        assert bot.fake.verify_calls <= limit
        assert bot.fake.verify_calls >= 1
        # everyone was answered: a wrong PIN, or PINs paused with the way to the counter
        wrong = [a for a in answers if "không đúng" in a]
        refused = [a for a in answers if "tạm dừng" in a and "không đúng" not in a]
        assert len(refused) + len(wrong) == 40
        assert len(wrong) == bot.fake.verify_calls
        assert all("thẻ căn cước" in a for a in refused)


async def test_a_right_pin_gives_its_attempt_back(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        limit = bot.runtime.settings.pin_attempts_per_dossier
        for n in range(limit - 1):
            await bot.say(f"stranger-{n}", payload=f"vf:{CODE}")
            await bot.say(f"stranger-{n}", text=wrong_pin(n))
        await bot.say("owner", payload=f"vf:{CODE}")
        assert "Đã xác minh" in await bot.say("owner", text=PIN)
        # the owner's success took nothing: one more stranger may still be told "wrong"
        await bot.say("stranger-last", payload=f"vf:{CODE}")
        assert "không đúng" in await bot.say("stranger-last", text=wrong_pin(99))


async def test_strangers_cannot_lock_the_owner_out(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        for n in range(30):
            await bot.say(f"stranger-{n}", payload=f"vf:{CODE}")
            await bot.say(f"stranger-{n}", text=wrong_pin(n))
        assert bot.fake.verify_calls == bot.runtime.settings.pin_attempts_per_dossier

        # The owner is told PINs are paused, how else to prove it, and where to get help…
        screen = await bot.say("owner-phone", payload=f"vf:{CODE}")
        assert "tạm dừng" in screen
        assert "số điện thoại" in screen and "mã QR" in screen
        assert "Bộ phận Một cửa" in screen and "thẻ căn cước" in screen
        # …and the phone number the platform shares still proves it at once.
        screen = await bot.say("owner-phone", phone=PHONE)
        assert "Đã xác minh" in screen and "Nguyễn Văn An" in screen

        # The signed link on the receipt verifies too.
        screen = await bot.say("owner-link", text=f"/start {make_payload(CODE, LINK_SECRET)}")
        assert "Đã xác minh" in screen and "Nguyễn Văn An" in screen


async def test_the_pin_pause_grows_for_persistent_guessers(storage_url: str) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    async with running_bot(storage_url, clock=clock) as bot:
        for n in range(5):
            await bot.say(f"s-{n}", payload=f"vf:{CODE}")
            await bot.say(f"s-{n}", text=wrong_pin(n))
        pauses = []
        for n in range(4):
            screen = await bot.say(f"t-{n}", payload=f"vf:{CODE}")
            minutes = int(re.search(r"trong (\d+) phút", screen).group(1))  # type: ignore[union-attr]
            pauses.append(minutes)
            clock.current += timedelta(minutes=minutes)
            await bot.say(f"t-{n}", payload=f"vf:{CODE}")
            assert "không đúng" in await bot.say(f"t-{n}", text=wrong_pin(50 + n))
        assert pauses == [3, 6, 12, 24]


@pytest.mark.sql  # what the erasure deletes, and what it keeps
async def test_erasing_ones_data_does_not_reset_the_limits(storage_url: str) -> None:
    async with running_bot(storage_url, lookup_limit_per_minute=5, pin_attempts_per_user=3) as bot:
        account = "eraser"

        async def erase() -> None:
            screen = await bot.say(account, text="/forget")
            assert "không bị xóa" in screen  # the forget text says limits stay
            assert "Đã xóa" in await bot.say(account, payload=screen.button(Action.FORGET_YES))

        for _ in range(5):
            assert "Đang xử lý" in await bot.say(account, text=CODE)
        await erase()
        assert "thử lại sau" in await bot.say(account, text=CODE)
        assert bot.fake.lookups == 5

        for n in range(3):
            await bot.say(account, payload=f"vf:{CODE}")
            await bot.say(account, text=wrong_pin(n))
        await erase()
        await bot.say(account, payload=f"vf:{CODE}")
        screen = await bot.say(account, text=wrong_pin(7))
        assert "thử lại sau" in screen and "thẻ căn cước" in screen
        assert bot.fake.verify_calls == 3


async def test_questions_about_a_dossier_one_does_not_own_count_as_lookups(
    storage_url: str,
) -> None:
    # A "this is my dossier" button (forged or not) makes a dossier the one in context
    # without a lookup; asking about its fee or its office must not look it up unlimited.
    async with running_bot(storage_url, lookup_limit_per_minute=5) as bot:
        await bot.say("asker", payload=f"vf:{CODE}")
        answers = [await bot.say("asker", text="lệ phí bao nhiêu") for _ in range(8)]
        answers.append(await bot.say("asker", text="nhận kết quả ở đâu"))
        assert bot.fake.lookups == 5
        assert all("thử lại sau" in answer for answer in answers[5:])


async def test_the_owner_asks_about_their_dossier_without_using_up_lookups(
    storage_url: str,
) -> None:
    async with running_bot(storage_url, lookup_limit_per_minute=2) as bot:
        await bot.say("owner", payload=f"vf:{CODE}")
        assert "Đã xác minh" in await bot.say("owner", text=PIN)
        before = bot.fake.lookups
        answers = [await bot.say("owner", text="lệ phí bao nhiêu") for _ in range(4)]
        assert bot.fake.lookups == before + 4
        assert not any("thử lại sau" in answer for answer in answers)


async def test_a_huge_pickup_place_stays_one_message(storage_url: str) -> None:
    async with running_bot(storage_url) as bot:
        bot.fake.changes = {"pickup": {"place": "Phòng " * 20_000, "hours": "8:00 " * 20_000}}
        await bot.say("owner", payload=f"vf:{CODE}")
        assert "Đã xác minh" in await bot.say("owner", text=PIN)
        screen = await bot.say("owner", text="nhận kết quả ở đâu")
        assert "Phòng Phòng" in screen and "…" in screen
        assert len(screen) < 4096  # one Telegram message
