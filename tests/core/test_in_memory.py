"""The conversation on the in-memory twin of the storage: the same citizen-level tests as
test_lookup.py and test_verification.py, whose database is not the point, with the core wired
to `bot.storage.memory` instead of SQL (they run on SQLite and PostgreSQL there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.caseapi.client import HttpCaseApi
from bot.caseapi.simulator import run_simulator
from bot.composition import core_config
from bot.core import ChatCore
from bot.demo import fetch_samples
from bot.handlers.context import Dependencies
from bot.ports import SystemClock
from bot.storage.memory import MemoryUnitOfWorkFactory
from tests.core.conftest import World, settings_for
from tests.core.test_lookup import (  # noqa: F401 - collected again here, on the twin
    test_code_typed_sloppily_is_understood,
    test_english_after_switching_language,
    test_lookup_shows_status_agency_procedure_and_date_but_no_details,
    test_lookups_are_rate_limited_per_user_with_a_time_to_wait,
    test_refresh_button_updates_after_the_status_changes,
    test_several_codes_in_one_message_each_get_an_answer,
)
from tests.core.test_verification import (  # noqa: F401 - collected again here, on the twin
    test_deep_link_verifies_in_one_tap,
    test_forget_me_erases_everything_after_confirmation,
    test_my_dossiers_lists_confirmed_ones,
    test_phone_verification,
    test_pin_attempts_are_limited_per_dossier_across_users,
    test_pin_verification_reveals_details_and_subscribes,
    test_wrong_pin_is_refused_politely,
)


@dataclass
class MemoryRuntime:
    """What the tests use of a runtime: the core, and its units of work."""

    core: ChatCore
    uow_factory: MemoryUnitOfWorkFactory


@pytest.fixture
async def world() -> AsyncIterator[World]:
    """The core on the in-memory storage, against a small simulated district."""
    async with run_simulator(seed=7, dossiers=3000, token="sim-token") as sim:
        settings = settings_for("sqlite:///unused.db", sim.url, "sim-token")
        samples = await fetch_samples(sim.url, "sim-token")
        clock = SystemClock()
        uow_factory = MemoryUnitOfWorkFactory(clock=clock)
        async with HttpCaseApi(sim.url, "sim-token") as api:
            core = ChatCore(Dependencies(api, clock, core_config(settings), uow_factory))
            runtime = MemoryRuntime(core, uow_factory)
            yield World(runtime, samples, sim, settings)  # type: ignore[arg-type]
