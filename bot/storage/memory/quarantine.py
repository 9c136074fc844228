"""Dossier changes set aside, in memory: the twin of `bot.storage.quarantine`
(`bot.ports.QuarantineRepository`), one open item per dossier at most.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from bot.domain.intake import RejectedItem, bounded
from bot.ports import QuarantinedItem
from bot.storage.memory.database import MemoryTables
from bot.storage.quarantine import QUARANTINE_SOURCES


class MemoryQuarantineRepository:
    """`bot.ports.QuarantineRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def hold(self, items: Sequence[RejectedItem], *, source: str, now: datetime) -> int:
        """Keep `items`; an open item of the same dossier is refreshed instead of duplicated."""
        if source not in QUARANTINE_SOURCES:
            raise ValueError(f"unknown quarantine source {source!r}")
        for item in map(bounded, items):
            open_item = next(
                (
                    q
                    for q in self._t.quarantine.values()
                    if item.code is not None
                    and q.dossier_code == item.code
                    and q.resolved_at is None
                ),
                None,
            )
            if open_item is not None:
                self._t.quarantine[open_item.id] = dataclasses.replace(
                    open_item,
                    source=source,
                    event_id=item.event_id,
                    reason=item.reason,
                    payload=item.raw,
                    last_seen_at=now,
                    times_seen=open_item.times_seen + 1,
                )
                continue
            item_id = self._t.next_quarantine_id
            self._t.next_quarantine_id += 1
            self._t.quarantine[item_id] = QuarantinedItem(
                id=item_id,
                source=source,
                dossier_code=item.code,
                event_id=item.event_id,
                reason=item.reason,
                payload=item.raw,
                first_seen_at=now,
                last_seen_at=now,
                times_seen=1,
                resolved_at=None,
            )
        return len(items)

    async def release(self, dossier_codes: Sequence[str], *, now: datetime) -> int:
        """Resolve the open items of `dossier_codes`."""
        codes = set(dossier_codes)
        released = [
            q
            for q in self._t.quarantine.values()
            if q.dossier_code in codes and q.resolved_at is None
        ]
        for item in released:
            self._t.quarantine[item.id] = dataclasses.replace(item, resolved_at=now)
        return len(released)

    async def dismiss(self, item_id: int, *, now: datetime) -> bool:
        """Resolve the open item `item_id`; whether it was open."""
        item = self._t.quarantine.get(item_id)
        if item is None or item.resolved_at is not None:
            return False
        self._t.quarantine[item_id] = dataclasses.replace(item, resolved_at=now)
        return True

    async def open_count(self) -> int:
        """How many items are open."""
        return sum(1 for q in self._t.quarantine.values() if q.resolved_at is None)

    async def list(
        self, *, include_resolved: bool = False, limit: int = 100
    ) -> list[QuarantinedItem]:
        """Items, the most recently seen first (open ones only unless `include_resolved`)."""
        found = [
            q for q in self._t.quarantine.values() if include_resolved or q.resolved_at is None
        ]
        found.sort(key=lambda q: (q.last_seen_at, q.id), reverse=True)
        return found[:limit]

    async def get(self, item_id: int) -> QuarantinedItem | None:
        """The item with `item_id`, if any."""
        return self._t.quarantine.get(item_id)

    async def purge_resolved(self, before: datetime) -> int:
        """Forget items resolved before `before`."""
        old = [
            i
            for i, q in self._t.quarantine.items()
            if q.resolved_at is not None and q.resolved_at < before
        ]
        for item_id in old:
            del self._t.quarantine[item_id]
        return len(old)
