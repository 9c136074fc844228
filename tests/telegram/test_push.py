"""`TelegramChannel.send`: pushes outside a conversation, with channel-neutral errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.messages import Button, Reply
from bot.push import (
    ChannelBlocked,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelTemporaryError,
)
from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import Harness, running_channel

USER = 8001


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Harness]:
    async with running_channel(fake, "polling") as harness:
        yield harness


async def test_send_delivers_every_reply_in_order(bot: Harness) -> None:
    await bot.channel.send(
        str(USER),
        [
            Reply("Hồ sơ đã có kết quả.", buttons=((Button("Xem", "lk:X"),),)),
            Reply("Nhớ mang theo giấy hẹn."),
        ],
    )

    messages = bot.fake.messages(USER)
    assert [m.text for m in messages] == ["Hồ sơ đã có kết quả.", "Nhớ mang theo giấy hẹn."]
    assert messages[0].buttons == [[("Xem", "lk:X")]]


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (403, "Forbidden: bot was blocked by the user", ChannelBlocked),
        (400, "Bad Request: chat not found", ChannelBlocked),
        (400, "Bad Request: can't parse entities", ChannelPermanentError),
        (500, "Internal Server Error", ChannelTemporaryError),
        (502, "Bad Gateway", ChannelTemporaryError),
    ],
)
async def test_send_maps_errors(
    bot: Harness, status: int, description: str, error: type[Exception]
) -> None:
    bot.fake.fail("sendMessage", status, description=description)

    with pytest.raises(error):
        await bot.channel.send(str(USER), [Reply("x")])

    assert len(bot.fake.calls_of("sendMessage")) == 1  # the dispatcher owns retries


async def test_send_reports_flood_control_with_the_wait(bot: Harness) -> None:
    bot.fake.fail("sendMessage", 429, retry_after=7)

    with pytest.raises(ChannelRetryAfter) as caught:
        await bot.channel.send(str(USER), [Reply("x")])

    assert caught.value.retry_after == 7
    assert bot.fake.messages(USER) == []


async def test_send_needs_a_started_channel_and_a_telegram_id(bot: Harness) -> None:
    with pytest.raises(ChannelPermanentError):
        await bot.channel.send("not-a-number", [Reply("x")])
