"""A citizen taking the survey through the real core and simulator, on the in-memory twin of
the storage (SQLite and PostgreSQL for tests marked ``sql``)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.caseapi.simulator import RunningSimulator, run_simulator
from bot.composition import notice_renderers
from bot.demo import Sample, fetch_samples
from bot.domain.notice_kinds import NoticeKind
from bot.domain.status import Status
from bot.notify.rendering import RenderContext
from bot.payloads import Action
from bot.settings import Settings
from tests.core.conftest import Citizen, settings_for
from tests.support.runtime import ChatRuntime, open_chat_runtime


@dataclass
class SurveyCitizen(Citizen):
    """A citizen who can also receive the survey invitation push."""

    def receives_invitation(self, code: str) -> str:
        """The dispatcher delivers the invitation; return what appeared."""
        start = self.screen.tell()
        replies = notice_renderers().render(
            NoticeKind.SURVEY_INVITATION, {"code": code}, RenderContext(self.chat.language)
        )
        self.chat.show_push(replies)
        return self.screen.getvalue()[start:]

    async def presses_label(self, label: str) -> str:
        """Press the button on screen whose label contains `label`."""
        start = self.screen.tell()
        for button in self.chat._buttons:
            if label in button.label:
                await self.chat.press(button)
                return self.screen.getvalue()[start:]
        raise LookupError(f"no button {label!r} on screen: {self.chat._buttons}")


@dataclass
class SurveyWorld:
    """The bot, the simulator, and a dossier that has just been returned to its owner."""

    runtime: ChatRuntime
    sim: RunningSimulator
    settings: Settings
    samples: dict[str, Sample]

    def citizen(self, user_id: str = "citizen-1") -> SurveyCitizen:
        """A person in the chat."""
        from bot.channels.console import ConsoleChat

        screen = io.StringIO()
        return SurveyCitizen(
            ConsoleChat(self.runtime.core, screen, user_id=user_id, width=200), screen
        )

    async def owner_of_returned(self, user_id: str = "citizen-1") -> tuple[SurveyCitizen, str]:
        """A citizen who verified a ready dossier, which has just been handed over."""
        sample = self.samples["ready"]
        citizen = self.citizen(user_id)
        await citizen.says(sample.code)
        await citizen.presses(Action.VERIFY)
        screen = await citizen.says(sample.pin)
        assert "Đã xác minh" in screen
        self.sim.state.move(sample.code, Status.RETURNED, datetime.now(UTC))
        return citizen, sample.code


@pytest.fixture
async def survey_world(storage_url: str) -> AsyncIterator[SurveyWorld]:
    """The bot on the in-memory twin (SQLite and PostgreSQL for a test marked ``sql``),
    against a small simulated district."""
    async with run_simulator(seed=11, dossiers=2000, token="sim-token") as sim:
        settings = settings_for(storage_url, sim.url, "sim-token")
        samples = await fetch_samples(sim.url, "sim-token")
        async with open_chat_runtime(settings) as runtime:
            yield SurveyWorld(runtime, sim, settings, samples)
