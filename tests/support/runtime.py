"""The bot's graph for tests, on the in-memory twin of the storage or on a real database.

Tests whose database is not the point (handlers, the conversation, the channels around the
core) run on `bot.storage.memory`, as cosmicpython's ``FakeUnitOfWork`` suggests: the
`storage_url` fixture (tests/conftest.py) is `MEMORY_URL` for them. Tests marked
``@pytest.mark.sql`` get a clean SQLite and PostgreSQL database instead, and the same code
then runs through `bot.composition.open_runtime`. `open_chat_runtime` chooses by the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.caseapi.client import HttpCaseApi
from bot.composition import Runtime, chat_case_api, core_config, open_runtime, resolve_server_secret
from bot.core import APOLOGY, ChatCore
from bot.handlers.context import Dependencies
from bot.i18n import gettext_for
from bot.inbound import InboundJournal
from bot.messages import MessageHandler
from bot.ops.metered import MeteredCaseApi, MeteredHandler
from bot.ops.metrics import Metrics
from bot.ports import CaseApi, Clock, SystemClock, UnitOfWorkFactory
from bot.settings import Settings
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.usage import FLUSH_EVERY_SECONDS, LookupTally

# The database URL that stands for the in-memory twin. It names a file in a folder that does
# not exist, so that nothing can open it as a real database by mistake (a command run on
# these settings fails at once instead of quietly making an empty SQLite file).
MEMORY_URL = "sqlite+aiosqlite:////nonexistent/motcua-in-memory-twin/motcua.db"


class ChatRuntime(Protocol):
    """What tests use of a running bot, whichever storage it is on."""

    @property
    def settings(self) -> Settings:
        """The settings it was built from."""
        ...

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """Its units of work."""
        ...

    @property
    def case_api(self) -> CaseApi:
        """The case API client the core asks."""
        ...

    @property
    def clock(self) -> Clock:
        """Its clock."""
        ...

    @property
    def core(self) -> ChatCore:
        """The conversation core."""
        ...

    @property
    def handler(self) -> MessageHandler:
        """The core as the channels call it."""
        ...

    @property
    def inbound(self) -> InboundJournal:
        """The channels' inbound journal."""
        ...

    @property
    def lookups(self) -> LookupTally:
        """Lookups counted for the usage page, not yet written."""
        ...


@dataclass
class MemoryRuntime:
    """`bot.composition.Runtime` on the in-memory twin: the same fields, without an engine."""

    settings: Settings
    uow_factory: MemoryUnitOfWorkFactory
    case_api: CaseApi
    clock: Clock
    core: ChatCore
    metrics: Metrics
    handler: MessageHandler
    inbound: InboundJournal
    lookups: LookupTally


@contextlib.asynccontextmanager
async def open_memory_runtime(
    settings: Settings, *, clock: Clock | None = None, case_api: CaseApi | None = None
) -> AsyncIterator[MemoryRuntime]:
    """The graph `open_runtime` builds, with every unit of work on one fresh in-memory
    database (the chat's and the batches' alike: the twin has no transaction modes).

    It mirrors `open_runtime`; test_storage.py fails when the two runtimes' fields differ."""
    own_client = case_api is None
    raw_api: CaseApi = case_api if case_api is not None else chat_case_api(settings)
    metrics = Metrics()
    if isinstance(raw_api, HttpCaseApi):
        breaker = raw_api.breaker
        metrics.watch_breaker("chat", lambda: breaker.state.value)
    clock = clock or SystemClock()
    uow_factory = MemoryUnitOfWorkFactory(clock=clock)
    lookups = LookupTally()
    flushing: asyncio.Task[None] | None = None
    try:
        server_secret = await resolve_server_secret(settings, uow_factory)
        deps = Dependencies(
            case_api=MeteredCaseApi(raw_api, metrics, "chat"),
            clock=clock,
            config=core_config(settings, server_secret=server_secret),
            uow_factory=uow_factory,
            lookups=lookups,
        )
        core = ChatCore(deps)
        flushing = asyncio.create_task(
            lookups.flush_every(uow_factory, FLUSH_EVERY_SECONDS), name="motcua-lookup-tally"
        )
        apologies = {gettext_for(language)(APOLOGY) for language in ("vi", "en")}
        yield MemoryRuntime(
            settings=settings,
            uow_factory=uow_factory,
            case_api=raw_api,
            clock=clock,
            core=core,
            metrics=metrics,
            handler=MeteredHandler(core, metrics, apologies),
            inbound=InboundJournal(
                uow_factory, clock, lease=timedelta(seconds=settings.inbound_lease)
            ),
            lookups=lookups,
        )
    finally:
        if flushing is not None:
            flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flushing
            await lookups.flush(uow_factory)
        if own_client and isinstance(raw_api, HttpCaseApi):
            await raw_api.aclose()


@contextlib.asynccontextmanager
async def open_chat_runtime(
    settings: Settings, *, clock: Clock | None = None, case_api: CaseApi | None = None
) -> AsyncIterator[ChatRuntime]:
    """The bot on the in-memory twin if ``settings.database_url`` is `MEMORY_URL`, else on
    that database through `bot.composition.open_runtime`."""
    if settings.database_url == MEMORY_URL:
        async with open_memory_runtime(settings, clock=clock, case_api=case_api) as memory:
            yield memory
    else:
        async with open_runtime(settings, clock=clock, case_api=case_api) as runtime:
            yield runtime


def on_sql(runtime: ChatRuntime) -> Runtime:
    """`runtime` as the SQL one it must be, for a test marked ``sql`` that reads its tables."""
    assert isinstance(runtime, Runtime), "this test reads SQL tables: mark it @pytest.mark.sql"
    return runtime
