"""`SqlQuarantineRepository`: dossier changes set aside, in `quarantined_items`.

Implements `bot.ports.QuarantineRepository`. The rows are few (one open row per dossier at
most, in the usual case none), so each method is a plain statement or two; it is the path
that must never fail while the rest of a page goes through, not a fast one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.intake import RejectedItem, bounded
from bot.ports import QuarantinedItem
from bot.storage.dialect import rowcount
from bot.storage.tables_watch import quarantined_items

QUARANTINE_SOURCES = ("feed", "event")
"""Where a set-aside item came from: the changes feed or a pushed case event."""


def _item(row: RowMapping) -> QuarantinedItem:
    return QuarantinedItem(
        id=row["id"],
        source=row["source"],
        dossier_code=row["dossier_code"],
        event_id=row["event_id"],
        reason=row["reason"],
        payload=row["payload"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
        times_seen=row["times_seen"],
        resolved_at=row["resolved_at"],
    )


class SqlQuarantineRepository:
    """Quarantined dossier changes over one connection (the unit of work's)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def hold(self, items: Sequence[RejectedItem], *, source: str, now: datetime) -> int:
        """Keep `items`; an open row of the same dossier is refreshed instead of duplicated."""
        if source not in QUARANTINE_SOURCES:
            raise ValueError(f"unknown quarantine source {source!r}")
        for item in map(bounded, items):
            values: dict[str, Any] = {
                "source": source,
                "event_id": item.event_id,
                "reason": item.reason,
                "payload": item.raw,
                "last_seen_at": now,
            }
            if item.code is not None:
                refreshed = await self._connection.execute(
                    update(quarantined_items)
                    .where(
                        quarantined_items.c.dossier_code == item.code,
                        quarantined_items.c.resolved_at.is_(None),
                    )
                    .values(times_seen=quarantined_items.c.times_seen + 1, **values)
                )
                if rowcount(refreshed):
                    continue
            await self._connection.execute(
                insert(quarantined_items).values(
                    dossier_code=item.code, first_seen_at=now, times_seen=1, **values
                )
            )
        return len(items)

    async def release(self, dossier_codes: Sequence[str], *, now: datetime) -> int:
        """Resolve the open rows of `dossier_codes` (superseded by a valid version)."""
        if not dossier_codes:
            return 0
        result = await self._connection.execute(
            update(quarantined_items)
            .where(
                quarantined_items.c.dossier_code.in_(bindparam("codes", expanding=True)),
                quarantined_items.c.resolved_at.is_(None),
            )
            .values(resolved_at=now),
            {"codes": list(dict.fromkeys(dossier_codes))},
        )
        return rowcount(result)

    async def dismiss(self, item_id: int, *, now: datetime) -> bool:
        """Resolve the open row `item_id`; whether it was open."""
        result = await self._connection.execute(
            update(quarantined_items)
            .where(quarantined_items.c.id == item_id, quarantined_items.c.resolved_at.is_(None))
            .values(resolved_at=now)
        )
        return rowcount(result) == 1

    async def open_count(self) -> int:
        """How many rows are open."""
        query = select(func.count()).where(quarantined_items.c.resolved_at.is_(None))
        return int((await self._connection.execute(query)).scalar_one())

    async def list(
        self, *, include_resolved: bool = False, limit: int = 100
    ) -> list[QuarantinedItem]:
        """Rows, the most recently seen first (open ones only unless `include_resolved`)."""
        query = select(quarantined_items).order_by(
            quarantined_items.c.last_seen_at.desc(), quarantined_items.c.id.desc()
        )
        if not include_resolved:
            query = query.where(quarantined_items.c.resolved_at.is_(None))
        rows = await self._connection.execute(query.limit(limit))
        return [_item(row) for row in rows.mappings()]

    async def get(self, item_id: int) -> QuarantinedItem | None:
        """The row with `item_id`, if any."""
        query = select(quarantined_items).where(quarantined_items.c.id == item_id)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _item(row)

    async def purge_resolved(self, before: datetime) -> int:
        """Delete rows resolved before `before`."""
        result = await self._connection.execute(
            delete(quarantined_items).where(quarantined_items.c.resolved_at < before)
        )
        return rowcount(result)
