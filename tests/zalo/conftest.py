"""The Zalo channel around the real core: the case API simulator, a fake Zalo, and the
in-memory twin of the storage (SQLite and PostgreSQL for tests marked ``sql``).

Webhook deliveries are signed like Zalo's and POSTed to the channel's route on the project's
web app, served on loopback; the channel's answers land in the fake Zalo's message log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.caseapi.simulator import run_simulator
from bot.channel_events import StoredChannelEvents
from bot.channels.zalo import ZaloChannel, build_zalo_channel
from bot.demo import Sample, fetch_samples
from bot.settings import Settings, load_settings
from bot.web.app import build_web_app
from tests.support.fake_zalo import (
    APP_ID,
    APP_SECRET,
    OA_SECRET,
    FakeZalo,
    run_fake_zalo,
    signed_delivery,
)
from tests.support.runtime import ChatRuntime, open_chat_runtime
from tests.support.servers import serve_in_loop

TEMPLATES = {"ready": "tmpl-ready-1"}


# The picture on the "share your phone number" card.
INFO_IMAGE = "https://motcua.example.invalid/the-o-cua.png"


def zalo_settings(storage_url: str, case_api_url: str, zalo_url: str, **more: Any) -> Settings:
    """Settings pointing the bot at `storage_url`, the simulator and the fake Zalo."""
    values: dict[str, Any] = {
        "database_url": storage_url,
        "case_api_url": case_api_url,
        "case_api_token": SecretStr("sim-token"),
        "deep_link_secret": SecretStr("test-deep-link-secret"),
        "zalo_app_id": APP_ID,
        "zalo_app_secret": SecretStr(APP_SECRET),
        "zalo_oa_secret": SecretStr(OA_SECRET),
        "zalo_access_token": SecretStr("access-0"),
        "zalo_refresh_token": SecretStr("refresh-0"),
        "zalo_api_url": zalo_url,
        "zalo_oauth_url": zalo_url,
        "zns_api_url": zalo_url,
        "zns_templates": TEMPLATES,
        "zalo_info_image_url": INFO_IMAGE,
    }
    values.update(more)
    return load_settings(**values)


@dataclass
class ZaloWorld:
    """The running bot with its Zalo channel, the fake Zalo and the simulator's samples."""

    runtime: ChatRuntime
    channel: ZaloChannel
    zalo: FakeZalo
    samples: dict[str, Sample]
    webhook_url: str
    client: httpx.AsyncClient

    async def deliver(self, event: dict[str, Any]) -> httpx.Response:
        """POST `event` signed like Zalo, as Zalo would."""
        body, headers = signed_delivery(event)
        return await self.client.post(self.webhook_url, content=body, headers=headers)

    async def say(self, event: dict[str, Any]) -> list[str]:
        """Deliver `event`, wait until it is handled; the texts the user got in answer."""
        user = _user_of(event)
        before = len(self.zalo.messages)
        answer = await self.deliver(event)
        assert answer.status_code == 200, answer.text
        await self.channel.drain()
        return [m.text for m in self.zalo.messages[before:] if m.user_id == user and m.text]


def _user_of(event: dict[str, Any]) -> str:
    holder = event.get("sender") or event.get("follower") or {}
    return str(holder.get("id"))


@pytest.fixture
async def zalo_world(storage_url: str) -> AsyncIterator[ZaloWorld]:
    """The bot on the in-memory twin (SQLite and PostgreSQL for a test marked ``sql``),
    serving Zalo through the web app."""
    async with (
        run_simulator(seed=11, dossiers=2000, token="sim-token") as sim,
        run_fake_zalo() as zalo,
    ):
        settings = zalo_settings(storage_url, sim.url, zalo.url)
        samples = await fetch_samples(sim.url, "sim-token")
        async with open_chat_runtime(settings) as runtime:
            channel = build_zalo_channel(
                settings,
                uow_factory=runtime.uow_factory,
                clock=runtime.clock,
                handler=runtime.core,
                events=StoredChannelEvents(runtime.uow_factory, runtime.clock),
            )
            await channel.start()
            app = build_web_app(channel.routes())
            try:
                async with serve_in_loop(app) as server, httpx.AsyncClient(timeout=10) as client:
                    yield ZaloWorld(
                        runtime, channel, zalo, samples, f"{server.url}/hooks/zalo", client
                    )
            finally:
                await channel.stop()
