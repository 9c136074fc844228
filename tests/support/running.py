"""`motcua run` in-process for end-to-end tests: the simulator, the fake Bot API, the bot."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.caseapi.simulator import run_simulator
from bot.caseapi.simulator.runner import RunningSimulator
from bot.composition import Runtime, open_runtime
from bot.demo import Sample, fetch_samples
from bot.runner import serving
from bot.settings import Settings, load_settings
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port

SIMULATOR_TOKEN = "sim"


@dataclass
class RunningBot:
    """Everything `running_bot` started."""

    simulator: RunningSimulator
    fake: FakeTelegram
    runtime: Runtime
    settings: Settings
    samples: dict[str, Sample]
    port: int


@contextlib.asynccontextmanager
async def running_bot(
    database_url: str,
    mode: str,
    *,
    deep_link_secret: str,
    seed: int = 3,
    dossiers: int = 1500,
    **settings: Any,
) -> AsyncIterator[RunningBot]:
    """The bot as `motcua run` wires it, on Telegram in `mode` ("polling" or "webhook"),
    with pushes fast (poll every 0.3 s, no quiet hours); `settings` override the rest."""
    fake = FakeTelegram()
    port = free_port()
    async with (
        run_simulator(seed=seed, dossiers=dossiers, token=SIMULATOR_TOKEN) as sim,
        fake.serve(),
    ):
        webhook = f"http://127.0.0.1:{port}/hooks/telegram" if mode == "webhook" else None
        loaded = load_settings(
            **{
                "database_url": database_url,
                "case_api_url": sim.url,
                "case_api_token": SecretStr(SIMULATOR_TOKEN),
                "telegram_token": SecretStr(fake.token),
                "telegram_api_url": fake.api_url,
                "telegram_webhook_url": webhook,
                "telegram_webhook_secret": SecretStr("hook-secret") if webhook else None,
                "deep_link_secret": SecretStr(deep_link_secret),
                "http_port": port,
                "poll_interval": 0.3,
                "quiet_hours": "off",
                **settings,
            }
        )
        samples = await fetch_samples(sim.url, SIMULATOR_TOKEN)
        async with open_runtime(loaded) as runtime, serving(runtime) as channels:
            assert channels == ["telegram"]
            yield RunningBot(sim, fake, runtime, loaded, samples, port)
