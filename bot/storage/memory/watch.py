"""The watcher's state in memory: the twin of `bot.storage.watch` (`bot.ports.WatchRepository`):
dossier snapshots, the changes-feed cursor, the polling lease and the ids of pushed case
events already seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.storage.memory.database import LeaseRow, MemoryTables

_OVERDUE_CANDIDATES = frozenset(s for s in Status if s.can_be_overdue)


class MemoryWatchRepository:
    """`bot.ports.WatchRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def snapshots(self, codes: Sequence[str]) -> dict[str, Snapshot]:
        """The stored snapshots of `codes`."""
        return {c: self._t.snapshots[c] for c in codes if c in self._t.snapshots}

    async def save_snapshots(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Store `snapshots`; a stored snapshot with a later status change is kept."""
        for snapshot in snapshots:
            stored = self._t.snapshots.get(snapshot.code)
            if stored is None or snapshot.status_changed_at >= stored.status_changed_at:
                self._t.snapshots[snapshot.code] = snapshot

    async def remember(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Store snapshots of dossiers not seen yet."""
        for snapshot in snapshots:
            self._t.snapshots.setdefault(snapshot.code, snapshot)

    async def overdue_candidates(self, *, now: datetime, limit: int) -> list[Snapshot]:
        """Snapshots past their appointment date without a result nor an overdue notice."""
        found = [
            s
            for s in self._t.snapshots.values()
            if s.due_at is not None
            and s.due_at < now
            and s.overdue_notified_at is None
            and s.status in _OVERDUE_CANDIDATES
        ]
        found.sort(key=lambda s: (s.due_at, s.code))
        return found[:limit]

    async def mark_overdue_notified(self, codes: Sequence[str], *, now: datetime) -> None:
        """Record that the overdue notice of `codes` was dealt with at `now`."""
        for code in codes:
            if code in self._t.snapshots:
                self._t.snapshots[code] = dataclasses.replace(
                    self._t.snapshots[code], overdue_notified_at=now
                )

    async def cursor(self) -> str | None:
        """The stored changes-feed cursor, if any."""
        return self._t.cursor

    async def advance_cursor(self, expected: str | None, new: str, *, now: datetime) -> bool:
        """Move the cursor from `expected` to `new`; False if another process moved it."""
        if self._t.cursor != expected:
            return False
        self._t.cursor = new
        return True

    async def take_lease(self, holder: str, *, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the polling lease."""
        lease = self._t.lease
        free = lease.holder is None or lease.lease_until is None or lease.lease_until < now
        if lease.holder != holder and not free:
            return False
        lease.holder, lease.lease_until = holder, now + ttl
        return True

    async def release_lease(self, holder: str, *, now: datetime) -> None:
        """Give the lease up at once, if `holder` holds it."""
        if self._t.lease.holder == holder:
            self._t.lease = LeaseRow()

    async def record_events(self, ids: Sequence[str], *, now: datetime) -> set[str]:
        """Record pushed case-event ids; the ones not seen before."""
        new = {i for i in ids if i not in self._t.case_events}
        for event_id in new:
            self._t.case_events[event_id] = now
        return new

    async def purge_events(self, before: datetime) -> int:
        """Forget pushed event ids received before `before`."""
        old = [i for i, at in self._t.case_events.items() if at < before]
        for event_id in old:
            del self._t.case_events[event_id]
        return len(old)
