"""The watcher: follows the case API's changes feed and turns changes into queued notices.

Every `poll_interval` seconds the leader (one process among those sharing the database) asks
``GET /v1/changes`` for what changed after its cursor, page by page until the feed is empty.
Each page is handled in ONE transaction: one query for the snapshots of the page's dossiers,
one for their active subscribers, the rules (`bot.notify.rules`), one bulk upsert of the
snapshots, one `enqueue_many` into the outbox, the subscriptions that end, and the cursor. A
crash in the middle re-processes the page, which the notices' dedup keys make harmless. The
work of a cycle grows with the number of changes, never with the number of subscriptions.

Pushed case events (`bot.notify.events`) go through the same path (`ingest_events`).
A periodic sweep tells subscribers, once per appointment date, that it has passed without a
result. Leadership: a PostgreSQL advisory lock held on a dedicated connection, or on SQLite a
lease row renewed by the leader; stand-bys retry every cycle and take over when it lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import bindparam, delete, exists, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.schema import Table

from bot.domain.dossier import Dossier
from bot.domain.status import Status
from bot.notify.rules import (
    Outcome,
    Recipient,
    RuleConfig,
    Snapshot,
    apply_change,
    overdue_notices,
    snapshot_from_row,
    snapshot_row,
)
from bot.ports import (
    CaseApi,
    CaseApiUnavailable,
    Clock,
    DossierNotFound,
    Notice,
    OutboxRepository,
)
from bot.storage.outbox import PENDING_STATES, SqlOutboxRepository
from bot.storage.tables import chat_users, subscriptions
from bot.storage.tables_outbox import outbox
from bot.storage.tables_watch import dossier_snapshots, processed_case_events, watch_state

log = logging.getLogger(__name__)

PAGE_SIZE = 1000
"""Dossiers asked for per changes page (the contract's maximum)."""

CURSOR_KEY = "cursor"
LEADER_KEY = "leader"

# Any constant will do; it names the PostgreSQL advisory lock the polling leader holds.
WATCHER_LOCK_ID = 0x6D637761  # "mcwa"

# Notices per enqueue_many statement: well under the drivers' bound-parameter limits, and
# equal-sized chunks let the database reuse one prepared multi-row INSERT (measured faster).
ENQUEUE_CHUNK = 200

# Followed dossiers without a snapshot looked up per sweep.
SEED_BATCH = 100

# Rows per batch of the overdue sweep (each batch is one short transaction).
SWEEP_BATCH = 500

OVERDUE_CANDIDATES = tuple(s.value for s in Status if not (s.has_result or s.is_final))


class WatchUnitOfWork(Protocol):
    """What the watcher needs of a unit of work: the outbox and the raw connection."""

    outbox: OutboxRepository

    @property
    def connection(self) -> AsyncConnection:
        """The unit of work's connection."""
        ...

    async def __aenter__(self) -> WatchUnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Commit the transaction."""
        ...


class WatchUnitOfWorkFactory(Protocol):
    """Makes units of work (e.g. `bot.storage.uow.SqlUnitOfWorkFactory`)."""

    engine: AsyncEngine

    def __call__(self) -> WatchUnitOfWork: ...


@dataclass(slots=True)
class ApplyReport:
    """What handling a batch of dossier changes did (counts only: nothing personal)."""

    dossiers: int = 0
    stale: int = 0
    notices: int = 0
    queued: int = 0
    ended: int = 0

    def add(self, other: ApplyReport) -> None:
        """Accumulate `other` into this report."""
        self.dossiers += other.dossiers
        self.stale += other.stale
        self.notices += other.notices
        self.queued += other.queued
        self.ended += other.ended


@dataclass(slots=True)
class PollReport(ApplyReport):
    """One poll cycle: pages and case-API requests, plus what the changes did."""

    requests: int = 0
    pages: int = 0
    leader: bool = True
    error: str | None = None


@dataclass(slots=True)
class IngestReport(ApplyReport):
    """Pushed events: how many were new and how many repeats were ignored."""

    accepted: int = 0
    duplicates: int = 0


# --------------------------------------------------------------------------- leadership


class LeaderLock(Protocol):
    """Who polls: `acquire` tries (and renews) leadership, True while this process leads."""

    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class AdvisoryLeaderLock:
    """PostgreSQL session advisory lock held on a dedicated connection.

    The lock lives as long as that connection: if the process dies, PostgreSQL ends the
    session and another process's next `acquire` gets it.
    """

    def __init__(self, engine: AsyncEngine, key: int = WATCHER_LOCK_ID) -> None:
        self._engine = engine
        self._key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """Whether this process holds the lock (taking it if free)."""
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except (DBAPIError, OSError):
                log.warning("watcher: lost the leader connection; leadership given up")
                await self._drop()
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            ).scalar()
        except BaseException:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        """Give leadership up."""
        if self._conn is None:
            return
        with contextlib.suppress(DBAPIError, OSError):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # The connection may already be dead (that is often why we drop it).
            with contextlib.suppress(Exception):
                await conn.close()


class LeaseLeaderLock:
    """A lease row in `watch_state`, for databases without advisory locks (SQLite).

    The holder renews it on every `acquire`; it lapses `ttl` after the last renewal, and then
    any process may take it.
    """

    def __init__(
        self,
        uow_factory: WatchUnitOfWorkFactory,
        clock: Clock,
        *,
        ttl: timedelta,
        holder: str | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ttl = ttl
        self.holder = holder or f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def acquire(self) -> bool:
        """Take or renew the lease; whether this process holds it."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            conn = uow.connection
            await conn.execute(
                _insert(conn, watch_state)
                .values(key=LEADER_KEY, holder=None, lease_until=None, updated_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            result = await conn.execute(
                update(watch_state)
                .where(
                    watch_state.c.key == LEADER_KEY,
                    or_(
                        watch_state.c.holder == self.holder,
                        watch_state.c.holder.is_(None),
                        watch_state.c.lease_until < now,
                    ),
                )
                .values(holder=self.holder, lease_until=now + self._ttl, updated_at=now)
            )
            await uow.commit()
        return bool(getattr(result, "rowcount", 0) == 1)

    async def release(self) -> None:
        """Give the lease up at once (a stand-by need not wait for it to lapse)."""
        async with self._uow_factory() as uow:
            await uow.connection.execute(
                update(watch_state)
                .where(watch_state.c.key == LEADER_KEY, watch_state.c.holder == self.holder)
                .values(holder=None, lease_until=None, updated_at=self._clock.now())
            )
            await uow.commit()


def leader_lock_for(
    uow_factory: WatchUnitOfWorkFactory, clock: Clock, *, ttl: timedelta
) -> LeaderLock:
    """The right leader lock for the database: advisory on PostgreSQL, a lease elsewhere."""
    if uow_factory.engine.dialect.name == "postgresql":
        return AdvisoryLeaderLock(uow_factory.engine)
    return LeaseLeaderLock(uow_factory, clock, ttl=ttl)


# --------------------------------------------------------------------------- SQL


def _insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, with ON CONFLICT (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def load_snapshots(conn: AsyncConnection, codes: Sequence[str]) -> dict[str, Snapshot]:
    """The stored snapshots of `codes` (one query)."""
    if not codes:
        return {}
    query = select(dossier_snapshots).where(
        dossier_snapshots.c.code.in_(bindparam("codes", expanding=True))
    )
    rows = (await conn.execute(query, {"codes": list(codes)})).mappings().all()
    return {row["code"]: snapshot_from_row(row) for row in rows}


async def load_recipients(
    conn: AsyncConnection, codes: Sequence[str]
) -> dict[str, list[Recipient]]:
    """The active subscribers of each of `codes`, by user id (one query, partial index)."""
    if not codes:
        return {}
    query = (
        select(
            subscriptions.c.dossier_code,
            subscriptions.c.created_at,
            chat_users.c.id,
            chat_users.c.blocked,
        )
        .select_from(subscriptions.join(chat_users, chat_users.c.id == subscriptions.c.user_id))
        .where(
            subscriptions.c.dossier_code.in_(bindparam("codes", expanding=True)),
            subscriptions.c.active,
        )
        .order_by(subscriptions.c.dossier_code, chat_users.c.id)
    )
    found: dict[str, list[Recipient]] = defaultdict(list)
    for row in await conn.execute(query, {"codes": list(codes)}):
        found[row.dossier_code].append(
            Recipient(user_id=row.id, subscribed_at=row.created_at, blocked=bool(row.blocked))
        )
    return dict(found)


async def save_snapshots(
    conn: AsyncConnection, snapshots: Iterable[Snapshot], *, now: datetime
) -> None:
    """Upsert `snapshots` in one statement; a stored newer status is never overwritten."""
    rows = [snapshot_row(s, now=now) for s in snapshots]
    if not rows:
        return
    insert = _insert(conn, dossier_snapshots)
    excluded = insert.excluded
    upsert = insert.on_conflict_do_update(
        index_elements=["code"],
        set_={name: excluded[name] for name in rows[0] if name != "code"},
        # The poller and a pushed event may race: the later status always wins.
        where=excluded.status_changed_at >= dossier_snapshots.c.status_changed_at,
    )
    await conn.execute(upsert, rows)


async def remember(conn: AsyncConnection, dossiers: Iterable[Dossier], *, now: datetime) -> None:
    """Store snapshots of dossiers the bot has not seen yet (existing ones are kept).

    Call it when a user subscribes to a dossier, with the dossier just looked up: the
    watcher then knows its appointment date before the first change arrives.
    """
    rows = [snapshot_row(Snapshot.of(d), now=now) for d in dossiers]
    if rows:
        insert = _insert(conn, dossier_snapshots).on_conflict_do_nothing(index_elements=["code"])
        await conn.execute(insert, rows)


async def end_subscriptions(
    conn: AsyncConnection, codes: Sequence[str], *, reason: str, now: datetime
) -> int:
    """End the active subscriptions of `codes` with `reason`; how many ended."""
    if not codes:
        return 0
    result = await conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.dossier_code.in_(bindparam("codes", expanding=True)),
            subscriptions.c.active,
        )
        .values(active=False, ended_at=now, end_reason=reason),
        {"codes": list(codes)},
    )
    return max(getattr(result, "rowcount", 0), 0)


async def cancel_pending(
    conn: AsyncConnection, codes: Sequence[str], kinds: Sequence[str], *, now: datetime
) -> int:
    """Cancel unsent notices of `kinds` about any of `codes`, in one statement.

    The bulk form of `OutboxRepository.cancel` (same states, same effect) for a page in which
    hundreds of dossiers are handed over; a notice being sent at this moment is not stopped.
    """
    if not codes or not kinds:
        return 0
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.dossier_code.in_(bindparam("codes", expanding=True)),
            outbox.c.kind.in_(list(kinds)),
            outbox.c.state.in_(PENDING_STATES),
        )
        .values(state="cancelled", lease_until=None, next_attempt_at=now),
        {"codes": list(codes)},
    )
    return max(getattr(result, "rowcount", 0), 0)


async def cancel_for_user(
    conn: AsyncConnection, user_id: int, *, dossier_code: str | None = None, now: datetime
) -> int:
    """Cancel the user's unsent notices about one dossier, or about every dossier."""
    return await SqlOutboxRepository(conn).cancel_for_user(
        user_id, dossier_code=dossier_code, now=now
    )


async def read_cursor(conn: AsyncConnection) -> str | None:
    """The stored changes-feed cursor, if any."""
    query = select(watch_state.c.value).where(watch_state.c.key == CURSOR_KEY)
    value: str | None = (await conn.execute(query)).scalar()
    return value


async def advance_cursor(
    conn: AsyncConnection, expected: str | None, new: str, *, now: datetime
) -> bool:
    """Move the cursor from `expected` to `new`; False if another process moved it first."""
    if expected is None:
        result = await conn.execute(
            _insert(conn, watch_state)
            .values(key=CURSOR_KEY, value=new, updated_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    else:
        result = await conn.execute(
            update(watch_state)
            .where(watch_state.c.key == CURSOR_KEY, watch_state.c.value == expected)
            .values(value=new, updated_at=now)
        )
    return bool(getattr(result, "rowcount", 0) == 1)


async def record_events(conn: AsyncConnection, ids: Sequence[str], *, now: datetime) -> set[str]:
    """Record pushed event ids; the ones not seen before."""
    if not ids:
        return set()
    insert = (
        _insert(conn, processed_case_events)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(processed_case_events.c.id)
    )
    new: set[str] = set()
    for event_id in dict.fromkeys(ids):
        # One statement per id: RETURNING with executemany is not portable to every driver.
        row = (await conn.execute(insert.values(id=event_id, received_at=now))).first()
        if row is not None:
            new.add(row.id)
    return new


async def purge_events(conn: AsyncConnection, *, before: datetime) -> int:
    """Forget pushed event ids received before `before`; how many."""
    result = await conn.execute(
        delete(processed_case_events).where(processed_case_events.c.received_at < before)
    )
    return max(getattr(result, "rowcount", 0), 0)


# --------------------------------------------------------------------------- the watcher


@dataclass(slots=True)
class _Batch:
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    ends: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cancels: dict[tuple[str, ...], list[str]] = field(default_factory=lambda: defaultdict(list))


class Watcher:
    """Detects dossier changes (polled or pushed) and queues the notices they call for.

    ``poll_once()`` runs one cycle (tests, the benchmark); ``start()`` schedules the cycles and
    the overdue sweep with APScheduler; ``stop()`` ends them and gives leadership up.
    """

    def __init__(
        self,
        uow_factory: WatchUnitOfWorkFactory,
        case_api: CaseApi,
        clock: Clock,
        *,
        poll_interval: float = 30.0,
        reminder_days: Sequence[int] = (3, 7),
        survey_delay: timedelta = timedelta(seconds=1800),
        survey_ttl: timedelta = timedelta(days=7),
        sweep_interval: float = 300.0,
        event_retention: timedelta = timedelta(days=7),
        page_size: int = PAGE_SIZE,
        leader_lock: LeaderLock | None = None,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        self._uow_factory = uow_factory
        self._case_api = case_api
        self._clock = clock
        self.poll_interval = poll_interval
        self.sweep_interval = sweep_interval
        self._event_retention = event_retention
        self._page_size = page_size
        self.config = RuleConfig(
            reminder_days=tuple(sorted(set(reminder_days))),
            survey_delay=survey_delay,
            survey_ttl=survey_ttl,
        )
        lease = timedelta(seconds=max(3 * poll_interval, 15.0))
        self._lock = leader_lock or leader_lock_for(uow_factory, clock, ttl=lease)
        self._scheduler: AsyncIOScheduler | None = None
        self._busy = asyncio.Lock()

    # ------------------------------------------------------------------ polling

    async def poll_once(self) -> PollReport:
        """One cycle: follow the changes feed until it is empty (if this process leads)."""
        report = PollReport()
        if not await self._lock.acquire():
            report.leader = False
            return report
        async with self._uow_factory() as uow:
            cursor = await read_cursor(uow.connection)
        while True:
            try:
                page = await self._case_api.changes(cursor, limit=self._page_size)
            except CaseApiUnavailable as error:
                report.error = type(error).__name__
                log.warning("watcher: case API unavailable (%s); retrying next cycle", error)
                break
            report.requests += 1
            if not page.items:
                if page.cursor != cursor:
                    await self._advance_only(cursor, page.cursor)
                break
            report.pages += 1
            moved = await self._process_page(page.items, cursor, page.cursor, report)
            if not moved:
                log.warning("watcher: another process moved the cursor; stopping this cycle")
                break
            cursor = page.cursor
            if len(page.items) < self._page_size or not await self._lock.acquire():
                break
        if report.dossiers:
            log.info(
                "watcher: %d changes in %d pages, %d notices queued, %d subscriptions ended",
                report.dossiers,
                report.pages,
                report.queued,
                report.ended,
            )
        return report

    async def _advance_only(self, expected: str | None, new: str) -> None:
        async with self._uow_factory() as uow:
            if await advance_cursor(uow.connection, expected, new, now=self._clock.now()):
                await uow.commit()

    async def _process_page(
        self, items: Sequence[Dossier], expected: str | None, new: str, report: PollReport
    ) -> bool:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            applied = await self._apply(uow, items, now)
            if not await advance_cursor(uow.connection, expected, new, now=now):
                return False
            await uow.commit()
        report.add(applied)
        return True

    # ------------------------------------------------------------------ pushed events

    async def ingest_events(self, events: Sequence[tuple[str, Dossier]]) -> IngestReport:
        """Handle pushed case events in one transaction; repeated ids are ignored."""
        now = self._clock.now()
        report = IngestReport()
        async with self._uow_factory() as uow:
            new_ids = await record_events(uow.connection, [eid for eid, _ in events], now=now)
            fresh: list[Dossier] = []
            for event_id, dossier in events:
                if event_id in new_ids:
                    new_ids.discard(event_id)  # a repeat inside the same batch counts once
                    fresh.append(dossier)
            report.add(await self._apply(uow, fresh, now))
            await uow.commit()
        report.accepted = len(fresh)
        report.duplicates = len(events) - len(fresh)
        return report

    # ------------------------------------------------------------------ the shared path

    async def _apply(
        self, uow: WatchUnitOfWork, dossiers: Sequence[Dossier], now: datetime
    ) -> ApplyReport:
        """Apply the rules to `dossiers` (in order) inside `uow`'s transaction."""
        report = ApplyReport(dossiers=len(dossiers))
        if not dossiers:
            return report
        conn = uow.connection
        codes = list(dict.fromkeys(d.code for d in dossiers))
        current = await load_snapshots(conn, codes)
        recipients = await load_recipients(conn, codes)
        batch = _Batch()
        for dossier in dossiers:
            outcome: Outcome = apply_change(
                current.get(dossier.code),
                dossier,
                recipients.get(dossier.code, ()),
                now,
                self.config,
            )
            if outcome.snapshot is None:
                report.stale += 1
                continue
            current[dossier.code] = batch.snapshots[dossier.code] = outcome.snapshot
            batch.notices += outcome.notices
            if outcome.end_reason is not None:
                batch.ends[outcome.end_reason].append(dossier.code)
                recipients.pop(dossier.code, None)
            if outcome.cancel_kinds:
                batch.cancels[outcome.cancel_kinds].append(dossier.code)
        await save_snapshots(conn, batch.snapshots.values(), now=now)
        report.notices = len(batch.notices)
        for start in range(0, len(batch.notices), ENQUEUE_CHUNK):
            chunk = batch.notices[start : start + ENQUEUE_CHUNK]
            report.queued += await uow.outbox.enqueue_many(chunk, now=now)
        for reason, ended in batch.ends.items():
            report.ended += await end_subscriptions(conn, ended, reason=reason, now=now)
        for kinds, cancelled in batch.cancels.items():
            await cancel_pending(conn, cancelled, kinds, now=now)
        return report

    # ------------------------------------------------------------------ overdue sweep

    async def sweep_overdue(self) -> int:
        """Tell subscribers, once per appointment date, that it passed without a result.

        Each overdue dossier is looked at once: it is marked whether or not anyone follows
        it, so the sweep's work grows with newly overdue dossiers only. Returns the notices
        queued.
        """
        queued = 0
        while True:
            now = self._clock.now()
            async with self._uow_factory() as uow:
                conn = uow.connection
                query = (
                    select(dossier_snapshots)
                    .where(
                        dossier_snapshots.c.due_at < now,
                        dossier_snapshots.c.overdue_notified_at.is_(None),
                        dossier_snapshots.c.status.in_(OVERDUE_CANDIDATES),
                    )
                    .order_by(dossier_snapshots.c.due_at)
                    .limit(SWEEP_BATCH)
                )
                rows = (await conn.execute(query)).mappings().all()
                if not rows:
                    break
                snapshots = [snapshot_from_row(row) for row in rows]
                recipients = await load_recipients(conn, [s.code for s in snapshots])
                notices = [
                    notice
                    for s in snapshots
                    for notice in overdue_notices(s, recipients.get(s.code, ()), now)
                ]
                await conn.execute(
                    update(dossier_snapshots)
                    .where(dossier_snapshots.c.code.in_(bindparam("codes", expanding=True)))
                    .values(overdue_notified_at=now),
                    {"codes": [s.code for s in snapshots]},
                )
                if notices:
                    queued += await uow.outbox.enqueue_many(notices, now=now)
                await uow.commit()
            if len(rows) < SWEEP_BATCH:
                break
        return queued

    async def seed_snapshots(self, limit: int = SEED_BATCH) -> int:
        """Fetch and store the snapshots of followed dossiers the bot has never seen.

        A backstop for subscriptions made without `remember`: without a snapshot the first
        change of a dossier cannot be compared (an extension would go unnoticed) and the
        overdue sweep cannot see it. At most `limit` case-API lookups; returns how many
        snapshots were stored.
        """
        missing = (
            select(subscriptions.c.dossier_code)
            .where(
                subscriptions.c.active,
                ~exists().where(dossier_snapshots.c.code == subscriptions.c.dossier_code),
            )
            .distinct()
            .limit(limit)
        )
        async with self._uow_factory() as uow:
            codes = list((await uow.connection.execute(missing)).scalars())
        found: list[Dossier] = []
        for code in codes:
            try:
                found.append(await self._case_api.get_dossier(code))
            except DossierNotFound:
                continue
            except CaseApiUnavailable:
                break
        if found:
            async with self._uow_factory() as uow:
                await remember(uow.connection, found, now=self._clock.now())
                await uow.commit()
        return len(found)

    async def purge_events(self) -> int:
        """Forget pushed event ids older than the retention; how many."""
        async with self._uow_factory() as uow:
            purged = await purge_events(
                uow.connection, before=self._clock.now() - self._event_retention
            )
            await uow.commit()
        return purged

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Schedule the poll cycles (first one at once) and the sweep; returns at once."""
        if self._scheduler is not None:
            raise RuntimeError("the watcher is already running")
        scheduler = AsyncIOScheduler(timezone="UTC")
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(
            self._guarded(self._poll_job),
            "interval",
            seconds=self.poll_interval,
            next_run_time=datetime.now().astimezone(),
            id="watcher-poll",
            **common,
        )
        scheduler.add_job(
            self._guarded(self._sweep_job),
            "interval",
            seconds=self.sweep_interval,
            id="watcher-sweep",
            **common,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop scheduling, let a running cycle finish, give leadership up."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        async with self._busy:
            await self._lock.release()

    def _guarded(self, job: Callable[[], Any]) -> Callable[[], Any]:
        async def run() -> None:
            async with self._busy:
                if self._scheduler is None:
                    return
                try:
                    await job()
                except Exception:
                    # The next run retries; nothing is lost (cursor and dedup keys).
                    log.exception("watcher: cycle failed")

        return run

    async def _poll_job(self) -> None:
        await self.poll_once()

    async def _sweep_job(self) -> None:
        if not await self._lock.acquire():
            return
        await self.seed_snapshots()
        await self.sweep_overdue()
        await self.purge_events()
