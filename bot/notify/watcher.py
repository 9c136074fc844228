"""The watcher: follows the case API's changes feed and turns changes into queued notices.

Every `poll_interval` seconds the leader (one process among those sharing the database) asks
``GET /v1/changes`` for what changed after its cursor, page by page until the feed is empty.
Each page is handled in ONE transaction: one query for the snapshots of the page's dossiers,
one for their active subscribers, the rules (`bot.notify.rules`), one bulk upsert of the
snapshots, one `enqueue_many` into the outbox, the subscriptions that end, and the cursor. A
crash in the middle re-processes the page, which the notices' dedup keys make harmless. The
work of a cycle grows with the number of changes, never with the number of subscriptions.

Pushed case events (`bot.web.case_events`) go through the same path (`ingest_events`).

One bad record never blocks the others: an item that is not a contract Dossier
(`bot.domain.intake.parse_item`), or that the database refuses, is set aside in the
quarantine (`uow.quarantine`) with its reason while the rest of its page is applied and the
cursor moves on; a later valid version of the same dossier supersedes it. Times stamped in
the future beyond a small skew are taken as "now" (`bot.domain.intake.settle`).
A periodic sweep tells subscribers, once per appointment date, that it has passed without a
result. Leadership (`bot.notify.leader`): a lease renewed by the leader, or on PostgreSQL an
advisory lock chosen by the composition root; stand-bys retry every cycle and take over.
Every statement goes through the unit of work's repositories (`uow.watch`,
`uow.subscriptions`, `uow.outbox`, `uow.quarantine`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain import intake
from bot.domain.dossier import Dossier
from bot.domain.intake import RejectedItem
from bot.domain.snapshot import Snapshot
from bot.notify.leader import LeaseLeaderLock, lease_for
from bot.notify.rules import ChangeOutcome, RuleConfig, apply_change, overdue_notices
from bot.ports import (
    CaseApi,
    CaseApiUnavailable,
    Clock,
    DossierNotFound,
    DossierOffContract,
    LeaderLock,
    Notice,
    RecordRefused,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 1000
"""Dossiers asked for per changes page (the contract's maximum)."""

# Notices per enqueue_many statement: well under the drivers' bound-parameter limits, and
# equal-sized chunks let the database reuse one prepared multi-row INSERT (measured faster).
ENQUEUE_CHUNK = 200

# Followed dossiers without a snapshot looked up per sweep.
SEED_BATCH = 100

# Rows per batch of the overdue sweep (each batch is one short transaction).
SWEEP_BATCH = 500


@dataclass(slots=True)
class ApplyReport:
    """What handling a batch of dossier changes did (counts only: nothing personal)."""

    dossiers: int = 0
    stale: int = 0
    notices: int = 0
    queued: int = 0
    ended: int = 0
    quarantined: int = 0
    superseded: int = 0

    def add(self, other: ApplyReport) -> None:
        """Accumulate `other` into this report."""
        self.dossiers += other.dossiers
        self.stale += other.stale
        self.notices += other.notices
        self.queued += other.queued
        self.ended += other.ended
        self.quarantined += other.quarantined
        self.superseded += other.superseded


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


@dataclass(slots=True)
class _Batch:
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    ends: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cancels: dict[tuple[str, ...], list[str]] = field(default_factory=lambda: defaultdict(list))


class Watcher:
    """Detects dossier changes (polled or pushed) and queues the notices they call for.

    ``poll_once()`` runs one poll cycle and ``sweep()`` one sweep; the composition root runs
    them periodically (`bot.composition.watcher_schedule`) and calls
    ``release()`` at shutdown to give leadership up. Only the leader polls and sweeps.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        case_api: CaseApi,
        clock: Clock,
        *,
        poll_interval: float = 30.0,
        reminder_days: Sequence[int] = (3, 7),
        survey_delay: timedelta = timedelta(seconds=1800),
        survey_ttl: timedelta = timedelta(days=7),
        event_retention: timedelta = timedelta(days=7),
        page_size: int = PAGE_SIZE,
        leader_lock: LeaderLock | None = None,
        clock_skew: timedelta = intake.FUTURE_SKEW,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        self._uow_factory = uow_factory
        self._case_api = case_api
        self._clock = clock
        self.poll_interval = poll_interval
        self._event_retention = event_retention
        self._page_size = page_size
        self._clock_skew = clock_skew
        self.config = RuleConfig(
            reminder_days=tuple(sorted(set(reminder_days))),
            survey_delay=survey_delay,
            survey_ttl=survey_ttl,
        )
        self._lock = leader_lock or LeaseLeaderLock(
            uow_factory, clock, ttl=lease_for(poll_interval)
        )

    # ------------------------------------------------------------------ polling

    async def poll_once(self) -> PollReport:
        """One cycle: follow the changes feed until it is empty (if this process leads)."""
        report = PollReport()
        if not await self._lock.acquire():
            report.leader = False
            return report
        async with self._uow_factory() as uow:
            cursor = await uow.watch.cursor()
        while True:
            try:
                page = await self._case_api.changes(cursor, limit=self._page_size)
            except CaseApiUnavailable as error:
                report.error = type(error).__name__
                log.warning("watcher: case API unavailable (%s); retrying next cycle", error)
                break
            report.requests += 1
            size = len(page.items) + len(page.rejected)
            if not size:
                if page.cursor != cursor:
                    await self._advance_only(cursor, page.cursor)
                break
            report.pages += 1
            moved = await self._process_page(page.items, page.rejected, cursor, page.cursor, report)
            if not moved:
                log.warning("watcher: another process moved the cursor; stopping this cycle")
                break
            cursor = page.cursor
            if size < self._page_size or not await self._lock.acquire():
                break
        if report.dossiers or report.quarantined:
            log.info(
                "watcher: %d changes in %d pages, %d notices queued, %d subscriptions ended, "
                "%d set aside in the quarantine",
                report.dossiers,
                report.pages,
                report.queued,
                report.ended,
                report.quarantined,
            )
        return report

    async def _advance_only(self, expected: str | None, new: str) -> None:
        async with self._uow_factory() as uow:
            if await uow.watch.advance_cursor(expected, new, now=self._clock.now()):
                await uow.commit()

    async def _process_page(
        self,
        items: Sequence[Dossier],
        rejected: Sequence[RejectedItem],
        expected: str | None,
        new: str,
        report: PollReport,
    ) -> bool:
        """Apply one page and move the cursor past it, in one transaction.

        Items the database refuses make that transaction fail; then each item is applied in
        its own transaction, the refused ones join `rejected` in the quarantine, and the
        cursor moves on in a last one. An unreachable database stops the cycle instead.
        """
        now = self._clock.now()
        try:
            async with self._uow_factory() as uow:
                applied = await self._apply(uow, items, now, rejected=rejected, source="feed")
                if not await uow.watch.advance_cursor(expected, new, now=now):
                    return False
                await uow.commit()
        except RecordRefused as error:
            log.warning(
                "watcher: the database refused an item of a page (%s); applying one by one",
                error.cause,
            )
            applied, refused = await self._apply_one_by_one(items, now)
            async with self._uow_factory() as uow:
                held = await self._hold(uow, [*rejected, *refused], items, "feed", now)
                if not await uow.watch.advance_cursor(expected, new, now=now):
                    return False
                await uow.commit()
            applied.quarantined += held
        report.add(applied)
        return True

    async def _apply_one_by_one(
        self, dossiers: Sequence[Dossier], now: datetime
    ) -> tuple[ApplyReport, list[RejectedItem]]:
        """Each dossier in its own transaction; the ones the database refused."""
        report = ApplyReport()
        refused: list[RejectedItem] = []
        for index, dossier in enumerate(dossiers):
            try:
                async with self._uow_factory() as uow:
                    report.add(await self._apply(uow, [dossier], now))
                    await uow.commit()
            except RecordRefused as error:
                refused.append(intake.unstorable(dossier, error.cause, index=index))
        return report, refused

    async def _hold(
        self,
        uow: UnitOfWork,
        rejected: Sequence[RejectedItem],
        accepted: Sequence[Dossier],
        source: str,
        now: datetime,
    ) -> int:
        """Put `rejected` in the quarantine, except those a later valid version of the same
        dossier in `accepted` (same page or batch) already superseded; how many were kept."""
        last_valid = {dossier.code: index for index, dossier in enumerate(accepted)}
        kept = [
            item
            for item in rejected
            if item.code is None or last_valid.get(item.code, -1) < item.position
        ]
        if kept:
            await uow.quarantine.hold(kept, source=source, now=now)
            log.warning(
                "watcher: %d dossier changes set aside in the quarantine (see `motcua "
                "quarantine`); first reason: %s",
                len(kept),
                kept[0].reason,
            )
        return len(kept)

    # ------------------------------------------------------------------ pushed events

    async def ingest_events(
        self, events: Sequence[tuple[str, Dossier | RejectedItem]]
    ) -> IngestReport:
        """Handle pushed case events in one transaction; repeated ids are ignored.

        An event whose dossier is off the contract (a `RejectedItem`) or that the database
        refuses is set aside in the quarantine; the others are applied all the same.
        """
        now = self._clock.now()
        report = IngestReport()
        try:
            async with self._uow_factory() as uow:
                fresh, _, rejected = await self._fresh_events(uow, events, now)
                report.add(await self._apply(uow, fresh, now, rejected=rejected, source="event"))
                await uow.commit()
        except RecordRefused as error:
            log.warning(
                "case events: the database refused an event (%s); applying one by one",
                error.cause,
            )
            async with self._uow_factory() as uow:
                # Only to learn which ids are new: rolled back, recorded below once applied.
                fresh, ids, rejected = await self._fresh_events(uow, events, now)
            applied, refused = await self._apply_one_by_one(fresh, now)
            # `position` of a refused item is its index among `fresh` plus one.
            refused = [replace(r, event_id=ids[r.position - 1]) for r in refused]
            async with self._uow_factory() as uow:
                await self._fresh_events(uow, events, now)
                applied.quarantined += await self._hold(
                    uow, [*rejected, *refused], fresh, "event", now
                )
                await uow.commit()
            report.add(applied)
        report.accepted = len(fresh) + len(rejected)
        report.duplicates = len(events) - report.accepted
        return report

    async def _fresh_events(
        self,
        uow: UnitOfWork,
        events: Sequence[tuple[str, Dossier | RejectedItem]],
        now: datetime,
    ) -> tuple[list[Dossier], list[str], list[RejectedItem]]:
        """Record the events' ids; of the new ones, the valid dossiers, their event ids and
        the rejected items."""
        new_ids = await uow.watch.record_events([eid for eid, _ in events], now=now)
        fresh: list[Dossier] = []
        fresh_ids: list[str] = []
        rejected: list[RejectedItem] = []
        for event_id, item in events:
            if event_id not in new_ids:
                continue
            new_ids.discard(event_id)  # a repeat inside the same batch counts once
            if isinstance(item, RejectedItem):
                rejected.append(replace(item, position=len(fresh), event_id=event_id))
            else:
                fresh.append(item)
                fresh_ids.append(event_id)
        return fresh, fresh_ids, rejected

    # ------------------------------------------------------------------ the shared path

    async def _apply(
        self,
        uow: UnitOfWork,
        dossiers: Sequence[Dossier],
        now: datetime,
        *,
        rejected: Sequence[RejectedItem] = (),
        source: str = "feed",
    ) -> ApplyReport:
        """Apply the rules to `dossiers` (in order) inside `uow`'s transaction; put `rejected`
        (the same page's or batch's items off the contract) in the quarantine."""
        report = ApplyReport(dossiers=len(dossiers))
        if dossiers:
            await self._apply_changes(uow, dossiers, now, report)
        if rejected:
            # After the valid ones: those release what an earlier page or batch set aside.
            report.quarantined = await self._hold(uow, rejected, dossiers, source, now)
        return report

    async def _apply_changes(
        self, uow: UnitOfWork, dossiers: Sequence[Dossier], now: datetime, report: ApplyReport
    ) -> None:
        codes = list(dict.fromkeys(d.code for d in dossiers))
        current = await uow.watch.snapshots(codes)
        recipients = await uow.subscriptions.recipients_of(codes)
        batch = _Batch()
        for dossier in dossiers:
            dossier = self._settle(dossier, current.get(dossier.code), now)
            outcome: ChangeOutcome = apply_change(
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
        await uow.watch.save_snapshots(batch.snapshots.values(), now=now)
        report.notices = len(batch.notices)
        for start in range(0, len(batch.notices), ENQUEUE_CHUNK):
            chunk = batch.notices[start : start + ENQUEUE_CHUNK]
            report.queued += await uow.outbox.enqueue_many(chunk, now=now)
        for reason, ended in batch.ends.items():
            report.ended += await uow.subscriptions.end_for_dossiers(ended, reason=reason, now=now)
        for kinds, cancelled in batch.cancels.items():
            await uow.outbox.cancel(cancelled, kinds, now=now)
        # A valid version supersedes what was set aside of the same dossier before it.
        report.superseded = await uow.quarantine.release(list(batch.snapshots), now=now)

    def _settle(self, dossier: Dossier, held: Snapshot | None, now: datetime) -> Dossier:
        """`dossier` with times from the future taken as now (logged: the case system's
        clock or data is wrong, and an operator should know)."""
        late = intake.future_times(dossier, now, skew=self._clock_skew)
        if not late:
            return dossier
        log.warning(
            "watcher: dossier %s has %s more than %s ahead of our clock; taken as now",
            dossier.code,
            ", ".join(late),
            self._clock_skew,
        )
        previous = None if held is None else (held.status, held.status_changed_at)
        return intake.settle(dossier, now, previous=previous, skew=self._clock_skew)

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
                snapshots = await uow.watch.overdue_candidates(now=now, limit=SWEEP_BATCH)
                if not snapshots:
                    break
                codes = [s.code for s in snapshots]
                recipients = await uow.subscriptions.recipients_of(codes)
                notices = [
                    notice
                    for s in snapshots
                    for notice in overdue_notices(s, recipients.get(s.code, ()), now)
                ]
                await uow.watch.mark_overdue_notified(codes, now=now)
                if notices:
                    queued += await uow.outbox.enqueue_many(notices, now=now)
                await uow.commit()
            if len(snapshots) < SWEEP_BATCH:
                break
        return queued

    async def seed_snapshots(self, limit: int = SEED_BATCH) -> int:
        """Fetch and store the snapshots of followed dossiers the bot has never seen.

        This is how a subscriber's dossier gets its first snapshot when the watcher has not
        seen it change yet: without one the first change of a dossier cannot be compared (an
        extension would go unnoticed) and the overdue sweep cannot see it. At most `limit`
        case-API lookups; returns how many snapshots were stored.
        """
        async with self._uow_factory() as uow:
            codes = await uow.subscriptions.followed_without_snapshot(limit)
        found: list[Dossier] = []
        for code in codes:
            try:
                found.append(await self._case_api.get_dossier(code))
            except DossierNotFound:
                continue
            except DossierOffContract:
                # Seeded once it is corrected; the ones after it must not wait for that.
                log.warning("watcher: followed dossier %s is off the contract, not seeded", code)
                continue
            except CaseApiUnavailable:
                break
        if found:
            async with self._uow_factory() as uow:
                now = self._clock.now()
                settled = [self._settle(d, None, now) for d in found]
                await uow.watch.remember([Snapshot.of(d) for d in settled], now=now)
                await uow.commit()
        return len(found)

    async def purge_events(self) -> int:
        """Forget pushed event ids, and quarantined items resolved, longer ago than the
        retention; how many event ids."""
        before = self._clock.now() - self._event_retention
        async with self._uow_factory() as uow:
            purged = await uow.watch.purge_events(before)
            await uow.quarantine.purge_resolved(before)
            await uow.commit()
        return purged

    # ------------------------------------------------------------------ the periodic jobs

    async def sweep(self) -> None:
        """The sweep job (if this process leads): seed missing snapshots, tell subscribers of
        passed appointment dates, forget old pushed event ids."""
        if not await self._lock.acquire():
            return
        await self.seed_snapshots()
        await self.sweep_overdue()
        await self.purge_events()

    async def release(self) -> None:
        """Give leadership up (at shutdown, once the jobs have stopped)."""
        await self._lock.release()
