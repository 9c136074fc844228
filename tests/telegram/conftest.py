"""Fixtures: the fake Bot API, and the Telegram channel around a scripted core, in both modes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette

from bot.channels.telegram import RetryPolicy, TelegramChannel
from bot.handlers.commands import command_descriptions
from bot.messages import Attachment, Button, Incoming, Reply, Response
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port, serve_in_loop


@dataclass
class RecordingEvents:
    """ChannelEvents that remember who blocked the bot."""

    blocked: list[tuple[str, str]] = field(default_factory=list)

    async def user_blocked(self, channel: str, channel_user_id: str) -> None:
        self.blocked.append((channel, channel_user_id))


@dataclass
class ScriptedCore:
    """A stand-in for the conversation core, with one behaviour per kind of input."""

    seen: list[Incoming] = field(default_factory=list)
    slow_seconds: float = 1.0
    active: int = 0
    max_active: int = 0

    async def __call__(self, incoming: Incoming) -> Response:
        self.seen.append(incoming)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            return await self._answer(incoming)
        finally:
            self.active -= 1

    async def _answer(self, incoming: Incoming) -> Response:
        if incoming.phone is not None:
            return Response.of(Reply("Đã xác minh số điện thoại."))
        if incoming.attachment == Attachment.FOREIGN_CONTACT:
            return Response.of(Reply("Đây không phải số của bạn."))
        if incoming.attachment is not None:
            return Response.of(Reply(f"Không đọc được: {incoming.attachment}"))
        if incoming.payload is not None:
            return self._button(incoming.payload)
        text = incoming.text or ""
        if text.startswith("/start"):
            return Response.of(
                Reply(
                    f"Xin chào! [{text}]",
                    buttons=((Button("Tra cứu", "lk:A"), Button("Hồ sơ của tôi", "mn:")),),
                )
            )
        if text == "phone":
            return Response.of(
                Reply(
                    "Chia sẻ số điện thoại hoặc nhập mã PIN.",
                    request_phone=True,
                    buttons=((Button("📱 Chia sẻ số điện thoại", "contact"),),),
                )
            )
        if text == "long":
            line = "Dòng thông tin hồ sơ rất dài " * 4
            return Response.of(Reply("\n".join(f"{i:04d} {line}" for i in range(200))))
        if text == "too-long-payload":
            return Response.of(
                Reply("Nút", buttons=((Button("ok", "lk:1"), Button("bad", "x" * 65)),))
            )
        if text.startswith("slow"):
            await asyncio.sleep(self.slow_seconds)
        if text == "boom":
            raise RuntimeError("the core failed")
        return Response.of(Reply(f"echo: {text}"))

    def _button(self, payload: str) -> Response:
        if payload.startswith("lk:"):
            return Response.of(
                Reply(
                    f"Trạng thái hồ sơ {payload[3:]}",
                    edit=True,
                    buttons=((Button("Làm mới", payload),),),
                ),
                notice="Đã cập nhật",
            )
        if payload == "mn:":
            return Response.of(Reply("Bạn chưa có hồ sơ nào."))
        return Response(notice="Nút này đã hết hạn.")


@dataclass
class Harness:
    """A running channel and everything around it."""

    fake: FakeTelegram
    channel: TelegramChannel
    core: ScriptedCore
    events: RecordingEvents
    mode: str


FAST_RETRY = RetryPolicy(attempts=4, backoff=0.05, max_retry_after=5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram().serve() as server:
        yield server


@contextlib.asynccontextmanager
async def running_channel(
    fake: FakeTelegram,
    mode: str,
    core: ScriptedCore | None = None,
    events: RecordingEvents | None = None,
    **options: Any,
) -> AsyncIterator[Harness]:
    """The channel around `core`, started against `fake` in `mode` ("polling" or "webhook")."""
    core = core or ScriptedCore()
    events = events or RecordingEvents()
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("poll_timeout", 1.0)
    options.setdefault("commands", command_descriptions)  # as the composition root does
    if mode == "polling":
        channel = TelegramChannel(fake.token, fake.api_url, core, events, **options)
        await channel.start()
        try:
            yield Harness(fake, channel, core, events, mode)
        finally:
            await channel.stop()
        return
    port = free_port()
    channel = TelegramChannel(
        fake.token,
        fake.api_url,
        core,
        events,
        webhook_url=f"http://127.0.0.1:{port}/hooks/telegram",
        webhook_secret="s3cret-Hook_token",
        **options,
    )
    async with serve_in_loop(Starlette(routes=channel.routes()), port=port):
        await channel.start()
        try:
            yield Harness(fake, channel, core, events, mode)
        finally:
            await channel.stop()


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, fake: FakeTelegram) -> AsyncIterator[Harness]:
    async with running_channel(fake, request.param) as harness:
        yield harness
