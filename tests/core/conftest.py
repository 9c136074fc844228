"""A citizen talking to the real core and the case API simulator on loopback.

The storage is the in-memory twin: these tests are about the conversation. Those marked
``@pytest.mark.sql`` (the lookup and verification transactions, erasure, limits under
concurrency, SQL rows) run on SQLite and PostgreSQL instead (see `tests.support.runtime`).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from pydantic import SecretStr

from bot.caseapi.simulator import run_simulator
from bot.caseapi.simulator.runner import RunningSimulator
from bot.channels.console import ConsoleChat
from bot.demo import Sample, fetch_samples
from bot.payloads import Action
from bot.settings import Settings, load_settings
from tests.support.runtime import ChatRuntime, open_chat_runtime


@dataclass
class Citizen:
    """A person in the chat, seeing exactly what the console shows."""

    chat: ConsoleChat
    screen: io.StringIO

    async def says(self, text: str) -> str:
        """Type a message; return what appeared on screen in answer."""
        start = self.screen.tell()
        await self.chat.type(text)
        return self.screen.getvalue()[start:]

    async def presses(self, action: Action) -> str:
        """Press the first button for `action`; return what appeared."""
        start = self.screen.tell()
        await self.chat.press_action(action)
        return self.screen.getvalue()[start:]


@dataclass
class World:
    """The running bot, the simulator and its sample dossiers."""

    runtime: ChatRuntime
    samples: dict[str, Sample]
    simulator: RunningSimulator
    settings: Settings

    def citizen(self, user_id: str = "citizen-1") -> Citizen:
        """A new person in the chat."""
        screen = io.StringIO()
        return Citizen(ConsoleChat(self.runtime.core, screen, user_id=user_id, width=200), screen)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        """The time tests set."""
        return self.current


def settings_for(database_url: str, case_api_url: str, token: str, **more: object) -> Settings:
    """Settings pointing the bot at test doubles (`database_url`: a `storage_url`)."""
    return load_settings(
        database_url=database_url,
        case_api_url=case_api_url,
        case_api_token=SecretStr(token),
        deep_link_secret=SecretStr("test-deep-link-secret"),
        **more,
    )


@pytest.fixture
async def world(storage_url: str) -> AsyncIterator[World]:
    """The bot on the in-memory twin (SQLite and PostgreSQL for a test marked ``sql``),
    against a small simulated district."""
    async with run_simulator(seed=7, dossiers=3000, token="sim-token") as sim:
        settings = settings_for(storage_url, sim.url, "sim-token")
        samples = await fetch_samples(sim.url, "sim-token")
        async with open_chat_runtime(settings) as runtime:
            yield World(runtime, samples, sim, settings)
