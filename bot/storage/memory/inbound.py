"""The inbound journal in memory: the twin of `bot.storage.inbound`
(`bot.ports.InboundJournalRepository`). Updates are stored before they are acknowledged and
leased while a process answers them; a finished one keeps only its key until it is purged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.ports import JournaledUpdate
from bot.storage.memory.database import InboundRow, MemoryTables


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
