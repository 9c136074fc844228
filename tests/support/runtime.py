"""The bot's graph for tests, on the in-memory twin of the storage or on a real database.

Tests whose database is not the point (handlers, the conversation, the channels around the
core) run on `bot.storage.memory`, as cosmicpython's ``FakeUnitOfWork`` suggests: the
`storage_url` fixture (tests/conftest.py) is `MEMORY_URL` for them. Tests marked
``@pytest.mark.sql`` get a clean SQLite and PostgreSQL database instead, and the same code
then runs through `bot.composition.open_runtime`. `open_chat_runtime` chooses by the URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from bot.composition import Runtime, UnitsOfWork, open_chat_graph, open_runtime
from bot.core import ChatCore
from bot.inbound import InboundJournal
from bot.messages import MessageHandler
from bot.ops.metrics import Metrics
from bot.ports import CaseApi, Clock, SystemClock, UnitOfWorkFactory
from bot.settings import Settings
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.usage import LookupTally

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
    reports: MemoryUnitOfWorkFactory
    server_secret: str


@contextlib.asynccontextmanager
async def open_memory_runtime(
    settings: Settings, *, clock: Clock | None = None, case_api: CaseApi | None = None
) -> AsyncIterator[MemoryRuntime]:
    """The graph `open_runtime` builds (`bot.composition.open_chat_graph`, the same code),
    with every unit of work on one fresh in-memory database (the chat's, the batches' and the
    reports' alike: the twin has no transaction modes)."""
    clock = clock or SystemClock()
    uow_factory = MemoryUnitOfWorkFactory(clock=clock)
    units = UnitsOfWork(
        batches=uow_factory, chat=uow_factory, reports=uow_factory, journal=uow_factory
    )
    async with open_chat_graph(settings, units, clock, case_api=case_api) as chat:
        yield MemoryRuntime(
            settings=settings,
            uow_factory=uow_factory,
            case_api=chat.case_api,
            clock=clock,
            core=chat.core,
            metrics=chat.metrics,
            handler=chat.handler,
            inbound=chat.inbound,
            lookups=chat.lookups,
            reports=uow_factory,
            server_secret=chat.server_secret,
        )


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
