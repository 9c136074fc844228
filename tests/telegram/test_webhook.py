"""Webhook mode: only Telegram, proven by the secret token header, may deliver updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.channels.telegram.channel import MAX_BODY_BYTES
from tests.support.fake_telegram import FakeTelegram
from tests.support.raw_http import post_and_wait
from tests.telegram.conftest import Harness, RecordingEvents, ScriptedCore, running_channel

USER = 6001


@pytest.fixture
async def hooked(fake: FakeTelegram) -> AsyncIterator[Harness]:
    async with running_channel(fake, "webhook") as harness:
        yield harness


def _update(text: str) -> dict[str, object]:
    return {
        "update_id": 99,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": USER, "type": "private", "first_name": "A"},
            "from": {"id": USER, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
async def test_a_wrong_or_missing_secret_is_refused_and_not_processed(
    hooked: Harness, secret: str | None
) -> None:
    assert hooked.fake.webhook_url is not None
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with httpx.AsyncClient() as client:
        response = await client.post(hooked.fake.webhook_url, json=_update("hi"), headers=headers)

    assert response.status_code == 403
    await asyncio.sleep(0.2)
    assert hooked.core.seen == []
    assert hooked.fake.messages(USER) == []


async def test_the_right_secret_is_accepted(hooked: Harness) -> None:
    assert hooked.fake.webhook_url is not None
    assert hooked.fake.webhook_secret == "s3cret-Hook_token"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            hooked.fake.webhook_url,
            json=_update("hi"),
            headers={SECRET_HEADER: "s3cret-Hook_token"},
        )

    assert response.status_code == 200
    await hooked.fake.wait_for_messages(USER, 1)
    assert hooked.fake.texts(USER) == ["echo: hi"]


async def test_a_malformed_body_is_refused(hooked: Harness) -> None:
    assert hooked.fake.webhook_url is not None
    async with httpx.AsyncClient() as client:
        response = await client.post(
            hooked.fake.webhook_url,
            content=b"[1, 2",
            headers={SECRET_HEADER: "s3cret-Hook_token", "content-type": "application/json"},
        )
    assert response.status_code == 400


async def test_webhook_registration_carries_the_secret_and_update_types(hooked: Harness) -> None:
    [call] = hooked.fake.calls_of("setWebhook")
    assert call.params["secret_token"] == "s3cret-Hook_token"
    assert set(call.params["allowed_updates"]) == {"message", "callback_query", "my_chat_member"}


async def test_polling_mode_removes_a_webhook_left_behind(fake: FakeTelegram) -> None:
    fake.webhook_url = "https://old.example/hook"
    async with running_channel(fake, "polling") as harness:
        await fake.send_text(USER, "hello")
        await fake.wait_for_messages(USER, 1)

    assert fake.calls_of("deleteWebhook")
    assert harness.fake.texts(USER) == ["echo: hello"]


def test_a_webhook_without_a_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        TelegramChannel(
            "1:x",
            "http://127.0.0.1:1",
            ScriptedCore(),
            RecordingEvents(),
            webhook_url="https://bot.example/hooks/telegram",
        )
    with pytest.raises(ValueError, match="secret"):
        TelegramChannel(
            "1:x",
            "http://127.0.0.1:1",
            ScriptedCore(),
            RecordingEvents(),
            webhook_url="https://bot.example/hooks/telegram",
            webhook_secret="not allowed: spaces",
        )


async def test_nested_or_oversized_bodies_with_the_right_secret_get_400_and_413(
    hooked: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert hooked.fake.webhook_url is not None
    headers = {SECRET_HEADER: "s3cret-Hook_token"}
    async with httpx.AsyncClient() as client:
        nested = await client.post(
            hooked.fake.webhook_url, content=b"[" * 30_000 + b"]" * 30_000, headers=headers
        )
    huge = await post_and_wait(
        hooked.fake.webhook_url, headers, chunks=(b" " * MAX_BODY_BYTES, b" ")
    )
    assert nested.status_code == 400
    assert huge == 413
    assert "Traceback" not in caplog.text
    assert hooked.core.seen == []


async def test_the_webhook_lets_telegram_deliver_a_hundred_updates_at_once(
    hooked: Harness,
) -> None:
    # Each POST waits for the inbound journal's commit: Telegram's default of 40 parallel
    # connections would cap a burst at 40 per commit wait.
    [registered] = hooked.fake.calls_of("setWebhook")
    assert int(registered.params["max_connections"]) == 100
