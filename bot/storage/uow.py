"""The SQL unit of work: one connection, one transaction, the repositories bound to it."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Self

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    UserRepository,
    WatchRepository,
    ZaloTokenRepository,
)
from bot.storage.engine import is_sqlite, use_transactions
from bot.storage.errors import translated
from bot.storage.feedback import SqlFeedbackRepository
from bot.storage.figures import SqlFiguresRepository
from bot.storage.inbound import SqlInboundJournalRepository
from bot.storage.office import SqlOfficeRepository, SqlStaffRepository
from bot.storage.outbox import SqlOutboxRepository
from bot.storage.quarantine import SqlQuarantineRepository
from bot.storage.rate_limits import SqlRateLimitRepository, SqlSecretRepository
from bot.storage.repositories import (
    SqlConversationRepository,
    SqlOwnershipRepository,
    SqlSubscriptionRepository,
    SqlUserRepository,
)
from bot.storage.sqlite_driver import TransactionMode
from bot.storage.watch import SqlWatchRepository
from bot.storage.zalo import SqlZaloTokenRepository
from surveys.storage.repository import SqlSurveyRepository
from surveys.storage.scores import SqlScoreRepository

# How long a unit of work waits for its turn on SQLite (SQLAlchemy's default pool_timeout).
WRITER_QUEUE_TIMEOUT_S = 30.0

# One in-process queue per SQLite engine: SQLite has a single writer anyway, and waiting on an
# asyncio lock is cheaper and fairer than every connection polling the file lock.
_sqlite_writer_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


class SqlUnitOfWork:
    """One database transaction with the repositories of `bot.ports` bound to it.

    ``async with factory() as uow: …; await uow.commit()``. Leaving the block without
    `commit` rolls back; statements after a commit start a new transaction.

    On SQLite the transaction is ``BEGIN IMMEDIATE`` (it takes the write lock at once), so a
    read-then-write transaction never fails because another one wrote in between; units of
    work are therefore serialised, and must not wait on the network while open.
    """

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

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        transactions: TransactionMode = TransactionMode.IMMEDIATE,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._transactions = transactions
        self._connection: AsyncConnection | None = None
        # A deferred (report) transaction on SQLite reads a snapshot (WAL) without queueing
        # for the write lock, so a long report does not hold up the chat's writes.
        writes = transactions is not TransactionMode.DEFERRED
        self._lock = _writer_lock(engine) if is_sqlite(engine) and writes else None
        self._holds_lock = False

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        if self._lock is not None:
            if self._lock.locked():
                # Queue like the connection pool does, and give up after as long: a burst
                # waits, a unit of work opened inside another on the same engine fails
                # instead of hanging.
                async with asyncio.timeout(WRITER_QUEUE_TIMEOUT_S):
                    await self._lock.acquire()
            else:
                await self._lock.acquire()  # free: no timer to arm
            self._holds_lock = True
        try:
            conn = await self._engine.connect()
            try:
                use_transactions(conn, self._transactions)
            except BaseException:
                await conn.close()
                raise
        except BaseException as exc:
            self._release()
            error = translated(exc)
            if error is not None:
                raise error from exc
            raise
        # No explicit begin: the first statement begins the transaction (SQLAlchemy's
        # autobegin), so a unit of work that ends up running nothing costs no round trip.
        self._connection = conn
        self.users = SqlUserRepository(conn)
        self.owners = SqlOwnershipRepository(conn)
        self.subscriptions = SqlSubscriptionRepository(conn, self._clock)
        self.rate_limits = SqlRateLimitRepository(conn)
        self.conversations = SqlConversationRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.watch = SqlWatchRepository(conn)
        self.quarantine = SqlQuarantineRepository(conn)
        self.surveys = SqlSurveyRepository(conn)
        self.scores = SqlScoreRepository(conn)
        self.zalo_tokens = SqlZaloTokenRepository(conn)
        self.inbound = SqlInboundJournalRepository(conn)
        self.secrets = SqlSecretRepository(conn)
        self.staff = SqlStaffRepository(conn)
        self.office = SqlOfficeRepository(conn)
        self.feedback = SqlFeedbackRepository(conn)
        self.figures = SqlFiguresRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                try:
                    await conn.close()
                finally:
                    self._release()
        # Callers see the ports' errors, not the driver's (the driver's stays the cause).
        error = translated(exc) if exc is not None else None
        if error is not None:
            raise error from exc

    async def commit(self) -> None:
        """Make the transaction's changes permanent."""
        await self._open().commit()

    async def rollback(self) -> None:
        """Discard the transaction's changes now (leaving the block does it too)."""
        await self._open().rollback()

    def _open(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open; use it with `async with`")
        return self._connection

    def _release(self) -> None:
        if self._lock is not None and self._holds_lock:
            self._holds_lock = False
            self._lock.release()


class SqlUnitOfWorkFactory:
    """Makes `SqlUnitOfWork`s on one engine; satisfies `bot.ports.UnitOfWorkFactory`.

    Two kinds, chosen where the graph is built (`bot.composition`): `for_chat` for the chat's
    units of work, one short transaction per message, which on SQLite run their statements on
    the event loop's thread once they hold the write lock (`bot.storage.sqlite_driver`):
    several times faster, but nothing else on the loop runs meanwhile; and `for_batches` (also
    the plain constructor) for everything else — the watcher, the outbox, housekeeping — whose
    longer transactions must not stall the loop.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock | None = None,
        *,
        _transactions: TransactionMode = TransactionMode.IMMEDIATE,
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._transactions = _transactions

    @classmethod
    def for_chat(cls, engine: AsyncEngine, clock: Clock | None = None) -> SqlUnitOfWorkFactory:
        """Units of work for the chat: short, inline on SQLite once they hold the lock."""
        return cls(engine, clock, _transactions=TransactionMode.IMMEDIATE_INLINE)

    @classmethod
    def for_reports(cls, engine: AsyncEngine, clock: Clock | None = None) -> SqlUnitOfWorkFactory:
        """Units of work that only read (the officials' pages): on SQLite a deferred
        transaction that does not queue for the write lock. They must not write."""
        return cls(engine, clock, _transactions=TransactionMode.DEFERRED)

    @classmethod
    def for_batches(cls, engine: AsyncEngine, clock: Clock | None = None) -> SqlUnitOfWorkFactory:
        """Units of work for background batches: every statement on the driver's thread."""
        return cls(engine, clock)

    def __call__(self) -> SqlUnitOfWork:
        """A fresh, not yet opened, unit of work."""
        return SqlUnitOfWork(self.engine, self.clock, self._transactions)


def _writer_lock(engine: AsyncEngine) -> asyncio.Lock:
    lock = _sqlite_writer_locks.get(engine.sync_engine)
    if lock is None:
        lock = _sqlite_writer_locks[engine.sync_engine] = asyncio.Lock()
    return lock
