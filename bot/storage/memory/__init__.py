"""The in-memory twin of the SQL storage: every repository port of `bot.ports`, in dicts.

For tests where the database is not the point (handlers, rules, the watcher, the
dispatcher), as cosmicpython's ``FakeUnitOfWork``. It keeps the SQL adapters' meaning — the
conformance suite (`tests/storage/test_conformance.py`) runs the same checks on this twin,
on SQLite and on PostgreSQL — including transactions: a unit of work works on its own copy of
the tables, `commit` publishes it, leaving without commit throws it away. Units of work on
one `MemoryDatabase` take turns, as SQLite's writers do.

A new repository port gets its twin here: a table (a dict) in `MemoryTables`, a class below,
and an attribute of `MemoryUnitOfWork`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError

from bot.domain.notice_kinds import NoticeKind
from bot.domain.outbox import WAITING_STATES
from bot.ports import (
    MAX_FEEDBACK_TEXT,
    Clock,
    ConversationRepository,
    FeedbackItem,
    FeedbackMessage,
    FeedbackRepository,
    FiguresRepository,
    InboundJournalRepository,
    JournaledUpdate,
    OfficeRepository,
    OperationalFigures,
    OutboxRepository,
    OutboxState,
    OwnershipRepository,
    QuarantineRepository,
    RateLimitRepository,
    ScoreRepository,
    SecretRepository,
    StaffRepository,
    StoredTokens,
    SubscriptionRepository,
    SurveyRepository,
    SystemClock,
    UnansweredMessage,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
    WatchRepository,
    ZaloTokenRepository,
)
from bot.storage.figures import age
from bot.storage.memory.database import (
    BucketRow,
    InboundRow,
    MemoryDatabase,
    MemoryTables,
    OfficeTables,
)
from bot.storage.memory.office import (
    MemoryOfficeRepository,
    MemoryStaffRepository,
)
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
from bot.storage.tables_feedback import (
    FEEDBACK_AUTHORS,
    FEEDBACK_KINDS,
    FEEDBACK_STATES,
    stored_code,
)
from bot.storage.uow import WRITER_QUEUE_TIMEOUT_S

__all__ = [
    "BucketRow",
    "MemoryConversationRepository",
    "MemoryDatabase",
    "MemoryFeedbackRepository",
    "MemoryFiguresRepository",
    "MemoryInboundJournalRepository",
    "MemoryOfficeRepository",
    "MemoryOutboxRepository",
    "MemoryOwnershipRepository",
    "MemoryQuarantineRepository",
    "MemoryRateLimitRepository",
    "MemoryScoreRepository",
    "MemorySecretRepository",
    "MemoryStaffRepository",
    "MemorySubscriptionRepository",
    "MemorySurveyRepository",
    "MemoryTables",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "MemoryUserRepository",
    "MemoryWatchRepository",
    "MemoryZaloTokenRepository",
    "OfficeTables",
]


# --------------------------------------------------------------------------- Zalo


class MemoryZaloTokenRepository:
    """`bot.ports.ZaloTokenRepository` in memory (the unit of work's turn is the lock)."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def get(self, *, lock: bool = False) -> StoredTokens | None:
        """The stored pair, if any."""
        return self._t.zalo_tokens

    async def seed(self, access_token: str, refresh_token: str, *, now: datetime) -> None:
        """Store a first pair (rotation 0) unless one is stored already."""
        if self._t.zalo_tokens is None:
            self._t.zalo_tokens = StoredTokens(access_token, refresh_token, None, 0)
            self._t.zalo_token_changed_at = now

    async def store(self, tokens: StoredTokens, *, now: datetime) -> None:
        """Store `tokens` in place of the current pair."""
        self._t.zalo_tokens = tokens
        self._t.zalo_token_changed_at = now


class MemoryInboundJournalRepository:
    """`bot.ports.InboundJournalRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def record(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        *,
        now: datetime,
        lease_until: datetime,
    ) -> set[str]:
        """Store the updates not stored before; the keys that were new."""
        fresh: set[str] = set()
        for key, payload in updates:
            if (channel, key) not in self._t.inbound:
                self._t.inbound[(channel, key)] = InboundRow(
                    "pending", payload, now, lease_until, attempts=1
                )
                fresh.add(key)
        return fresh

    async def finish(
        self, channel: str, keys: Sequence[str], *, now: datetime, state: str = "done"
    ) -> None:
        """Mark updates answered or set aside; their content is erased."""
        if state not in ("done", "failed"):
            raise ValueError(f"not a finished state: {state}")
        for key in keys:
            row = self._t.inbound.get((channel, key))
            if row is not None:
                row.state, row.payload, row.lease_until, row.finished_at = state, None, None, now

    async def extend(self, channel: str, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Renew the lease of pending updates."""
        for key in keys:
            row = self._t.inbound.get((channel, key))
            if row is not None and row.state == "pending":
                row.lease_until = lease_until

    async def claim_unfinished(
        self,
        channel: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        expired_only: bool = True,
    ) -> list[JournaledUpdate]:
        """Pending updates whose lease ran out (or all), oldest first, now leased."""
        pending = sorted(
            (
                (row.received_at, key, row)
                for (row_channel, key), row in self._t.inbound.items()
                if row_channel == channel
                and row.state == "pending"
                and not (expired_only and (row.lease_until is None or row.lease_until >= now))
            ),
            key=lambda item: (item[0], item[1]),
        )[:limit]
        claimed = []
        for received_at, key, row in pending:
            row.lease_until, row.attempts = lease_until, row.attempts + 1
            claimed.append(
                JournaledUpdate(channel, key, row.payload or "", row.attempts, received_at)
            )
        return claimed

    async def purge(self, *, finished_before: datetime) -> int:
        """Forget finished updates older than `finished_before`."""
        old = [
            key
            for key, row in self._t.inbound.items()
            if row.state != "pending"
            and row.finished_at is not None
            and row.finished_at < finished_before
        ]
        for key in old:
            del self._t.inbound[key]
        return len(old)


# --------------------------------------------------------------------------- feedback


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


class MemoryFeedbackRepository:
    """`bot.ports.FeedbackRepository` in memory (ids shared by the three tables, as any
    increasing ids would do)."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    def _next_id(self) -> int:
        number = self._t.next_feedback_id
        self._t.next_feedback_id += 1
        return number

    async def add(
        self,
        *,
        channel: str,
        user_id: int | None,
        agency_code: str | None,
        procedure_code: str | None,
        kind: str,
        text: str,
        language: str,
        now: datetime,
    ) -> int:
        """Store a new feedback item (status "open") with its first message; its id."""
        _check(kind, FEEDBACK_KINDS, "feedback kind")
        text = text[:MAX_FEEDBACK_TEXT]
        number = self._next_id()
        self._t.feedback_items[number] = FeedbackItem(
            number,
            now,
            now,
            channel,
            user_id,
            stored_code(agency_code),
            stored_code(procedure_code),
            kind,
            text,
            "open",
            language,
        )
        await self.add_message(number, author="citizen", text=text, now=now)
        self._t.feedback_items[number] = dataclasses.replace(
            self._t.feedback_items[number], updated_at=now
        )
        return number

    async def get(self, feedback_id: int) -> FeedbackItem | None:
        """One feedback item."""
        return self._t.feedback_items.get(feedback_id)

    async def list_feedback(
        self,
        *,
        agency_code: str | None = None,
        since: datetime | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[FeedbackItem]:
        """Feedback items, newest first, optionally of one agency, since a time, in a state."""
        items = [
            item
            for item in self._t.feedback_items.values()
            if (agency_code is None or item.agency_code == agency_code)
            and (since is None or item.created_at >= since)
            and (status is None or item.status == status)
        ]
        items.sort(key=lambda item: (item.created_at, item.id), reverse=True)
        return items[:limit]

    async def thread(self, feedback_id: int) -> list[FeedbackMessage]:
        """The messages of one feedback item, oldest first."""
        messages = [m for m in self._t.feedback_messages.values() if m.feedback_id == feedback_id]
        return sorted(messages, key=lambda m: (m.created_at, m.id))

    async def add_message(
        self,
        feedback_id: int,
        *,
        author: str,
        text: str,
        now: datetime,
        staff_username: str | None = None,
    ) -> int:
        """Append a message to the thread (a staff reply sets the item "answered")."""
        _check(author, FEEDBACK_AUTHORS, "author")
        item = self._t.feedback_items.get(feedback_id)
        if item is None:  # the SQL foreign key refuses it too
            raise IntegrityError("feedback_messages", None, Exception("no such feedback item"))
        number = self._next_id()
        self._t.feedback_messages[number] = FeedbackMessage(
            number,
            feedback_id,
            now,
            author,
            staff_username if author == "staff" else None,
            text[:MAX_FEEDBACK_TEXT],
        )
        status = "answered" if author == "staff" else item.status
        self._t.feedback_items[feedback_id] = dataclasses.replace(
            item, updated_at=now, status=status
        )
        return number

    async def set_status(self, feedback_id: int, status: str, *, now: datetime) -> bool:
        """Move the item to `status`; False when there is no such item."""
        _check(status, FEEDBACK_STATES, "feedback status")
        item = self._t.feedback_items.get(feedback_id)
        if item is None:
            return False
        self._t.feedback_items[feedback_id] = dataclasses.replace(
            item, status=status, updated_at=now
        )
        return True

    async def add_unanswered(
        self, *, channel: str, language: str, agency_code: str | None, text: str, now: datetime
    ) -> int:
        """Keep a message the bot could not answer; its id."""
        number = self._next_id()
        self._t.unanswered[number] = UnansweredMessage(
            number, now, channel, language, stored_code(agency_code), text[:MAX_FEEDBACK_TEXT]
        )
        return number

    async def list_unanswered(
        self, *, agency_code: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[UnansweredMessage]:
        """Unanswered messages, newest first."""
        kept = [
            m
            for m in self._t.unanswered.values()
            if (agency_code is None or m.agency_code == agency_code)
            and (since is None or m.created_at >= since)
        ]
        kept.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return kept[:limit]

    async def purge_unanswered(self, before: datetime) -> int:
        """Delete unanswered messages older than `before`; how many."""
        old = [i for i, m in self._t.unanswered.items() if m.created_at < before]
        for number in old:
            del self._t.unanswered[number]
        return len(old)


# --------------------------------------------------------------------------- the unit of work


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


class MemoryFiguresRepository:
    """`bot.ports.FiguresRepository` over a unit of work's tables."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def read(self, now: datetime) -> OperationalFigures:
        """The figures as of `now`."""
        tables = self._t
        rows = list(tables.outbox.values())
        waiting = [r.created_at for r in rows if r.state in WAITING_STATES]
        sent = [
            r
            for r in rows
            if r.kind == NoticeKind.SURVEY_INVITATION and r.state is OutboxState.SENT
        ]
        tokens = tables.zalo_tokens
        return OperationalFigures(
            outbox_by_state={
                state.value: sum(r.state is state for r in rows) for state in OutboxState
            },
            oldest_waiting_age=age(now, min(waiting, default=None)),
            surveys_sent=len(sent),
            surveys_answered=len(tables.responses),
            zalo_token_age=age(now, tables.zalo_token_changed_at if tokens else None),
        )
