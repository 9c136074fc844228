"""The in-memory unit of work: `MemoryUnitOfWork`, and its factory, a `bot.ports.UnitOfWorkFactory`.

A unit of work works on its own copy of its `MemoryDatabase`'s tables, with every repository
of the twin bound to that copy: `commit` publishes it, leaving without commit throws it away.
Units of work on one database take turns, as SQLite's writers do, and wait for their turn as
long as a SQL unit of work waits for its turn on SQLite (`WRITER_QUEUE_TIMEOUT_S`).
"""

from __future__ import annotations

import asyncio
import copy
from types import TracebackType
from typing import Self

from bot.ports import (
    Clock,
    ConversationRepository,
    FeedbackRepository,
    FiguresRepository,
    InboundJournalRepository,
    OfficeRepository,
    OutboxRepository,
    OwnershipRepository,
    QuarantineRepository,
    RateLimitRepository,
    ScoreRepository,
    SecretRepository,
    StaffRepository,
    SubscriptionRepository,
    SurveyRepository,
    SystemClock,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
    WatchRepository,
    ZaloTokenRepository,
)
from bot.storage.memory.database import MemoryDatabase, MemoryTables
from bot.storage.memory.feedback import MemoryFeedbackRepository
from bot.storage.memory.figures import MemoryFiguresRepository
from bot.storage.memory.inbound import MemoryInboundJournalRepository
from bot.storage.memory.office import MemoryOfficeRepository, MemoryStaffRepository
from bot.storage.memory.outbox import MemoryOutboxRepository
from bot.storage.memory.quarantine import MemoryQuarantineRepository
from bot.storage.memory.rate_limits import MemoryRateLimitRepository, MemorySecretRepository
from bot.storage.memory.scores import MemoryScoreRepository
from bot.storage.memory.surveys import MemorySurveyRepository
from bot.storage.memory.users import (
    MemoryConversationRepository,
    MemoryOwnershipRepository,
    MemorySubscriptionRepository,
    MemoryUserRepository,
)
from bot.storage.memory.watch import MemoryWatchRepository
from bot.storage.memory.zalo import MemoryZaloTokenRepository
from bot.storage.uow import WRITER_QUEUE_TIMEOUT_S


class MemoryUnitOfWork:
    """One transaction on a `MemoryDatabase`: a private copy of its tables until `commit`."""

    users: UserRepository
    owners: OwnershipRepository
    subscriptions: SubscriptionRepository
    rate_limits: RateLimitRepository
    conversations: ConversationRepository
    outbox: OutboxRepository
    watch: WatchRepository
    quarantine: QuarantineRepository
    surveys: SurveyRepository
    scores: ScoreRepository
    zalo_tokens: ZaloTokenRepository
    inbound: InboundJournalRepository
    secrets: SecretRepository
    staff: StaffRepository
    office: OfficeRepository
    feedback: FeedbackRepository
    figures: FiguresRepository

    def __init__(self, database: MemoryDatabase, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._tables: MemoryTables | None = None

    async def __aenter__(self) -> Self:
        if self._tables is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        async with asyncio.timeout(WRITER_QUEUE_TIMEOUT_S):
            await self._database.lock.acquire()
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tables is None:
            return
        self._tables = None
        self._database.lock.release()

    async def commit(self) -> None:
        """Publish this unit of work's changes; later statements start from them."""
        self._database.tables = self._open()
        self._begin()

    async def rollback(self) -> None:
        """Discard this unit of work's changes now."""
        self._open()
        self._begin()

    def _open(self) -> MemoryTables:
        if self._tables is None:
            raise RuntimeError("the unit of work is not open; use it with `async with`")
        return self._tables

    def _begin(self) -> None:
        tables = self._tables = copy.deepcopy(self._database.tables)
        self.users = MemoryUserRepository(tables)
        self.owners = MemoryOwnershipRepository(tables)
        self.subscriptions = MemorySubscriptionRepository(tables, self._clock)
        self.rate_limits = MemoryRateLimitRepository(tables.rate_limits)
        self.secrets = MemorySecretRepository(tables.server_secrets)
        self.conversations = MemoryConversationRepository(tables)
        self.outbox = MemoryOutboxRepository(tables)
        self.watch = MemoryWatchRepository(tables)
        self.quarantine = MemoryQuarantineRepository(tables)
        self.surveys = MemorySurveyRepository(tables)
        self.scores = MemoryScoreRepository(tables)
        self.zalo_tokens = MemoryZaloTokenRepository(tables)
        self.inbound = MemoryInboundJournalRepository(tables)
        self.staff = MemoryStaffRepository(tables)
        self.office = MemoryOfficeRepository(tables)
        self.feedback = MemoryFeedbackRepository(tables)
        self.figures = MemoryFiguresRepository(tables)


class MemoryUnitOfWorkFactory:
    """Makes `MemoryUnitOfWork`s on one `MemoryDatabase`; a `bot.ports.UnitOfWorkFactory`."""

    def __init__(self, database: MemoryDatabase | None = None, clock: Clock | None = None):
        self.database = database or MemoryDatabase()
        self.clock: Clock = clock or SystemClock()

    def __call__(self) -> MemoryUnitOfWork:
        """A fresh, not yet opened, unit of work."""
        return MemoryUnitOfWork(self.database, self.clock)


def _conforms(factory: MemoryUnitOfWorkFactory) -> UnitOfWorkFactory:
    """Lets mypy check that the twin implements every port (never called)."""
    uow: UnitOfWork = factory()
    del uow
    return factory
