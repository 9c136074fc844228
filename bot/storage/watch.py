"""The watcher's memory on SQL (`bot.ports.WatchRepository`): dossier snapshots, the
changes-feed cursor, the polling lease and the ids of pushed case events already seen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.storage.dialect import rowcount, upsert_into
from bot.storage.tables_watch import dossier_snapshots, processed_case_events, watch_state

CURSOR_KEY = "cursor"
LEADER_KEY = "leader"

OVERDUE_CANDIDATES = tuple(s.value for s in Status if s.can_be_overdue)


def snapshot_row(snapshot: Snapshot, *, now: datetime) -> Mapping[str, Any]:
    """The `dossier_snapshots` row of `snapshot`, stamped `updated_at=now`."""
    return {
        "code": snapshot.code,
        "status": snapshot.status.value,
        "status_code": snapshot.status.code,
        "status_changed_at": snapshot.status_changed_at,
        "agency_code": snapshot.agency_code,
        "agency_name": snapshot.agency_name,
        "procedure_code": snapshot.procedure_code,
        "procedure_name": snapshot.procedure_name,
        "field": snapshot.field,
        "received_at": snapshot.received_at,
        "due_at": snapshot.due_at,
        "original_due_at": snapshot.original_due_at,
        "returned_at": snapshot.returned_at,
        "delivery": snapshot.delivery,
        "overdue_notified_at": snapshot.overdue_notified_at,
        "updated_at": now,
    }


def snapshot_from_row(row: Mapping[Any, Any]) -> Snapshot:
    """The snapshot stored in a `dossier_snapshots` row."""
    return Snapshot(
        code=row["code"],
        status=Status(row["status"]),
        status_changed_at=row["status_changed_at"],
        agency_code=row["agency_code"],
        agency_name=row["agency_name"],
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field=row["field"],
        received_at=row["received_at"],
        due_at=row["due_at"],
        original_due_at=row["original_due_at"],
        returned_at=row["returned_at"],
        delivery=row["delivery"],
        overdue_notified_at=row["overdue_notified_at"],
    )


_SNAPSHOTS_OF = select(dossier_snapshots).where(
    dossier_snapshots.c.code.in_(bindparam("codes", expanding=True))
)


class SqlWatchRepository:
    """`bot.ports.WatchRepository` over one connection (inside its transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    # ------------------------------------------------------------------ snapshots

    async def snapshots(self, codes: Sequence[str]) -> dict[str, Snapshot]:
        """The stored snapshots of `codes` (one query)."""
        if not codes:
            return {}
        rows = (await self._connection.execute(_SNAPSHOTS_OF, {"codes": list(codes)})).mappings()
        return {row["code"]: snapshot_from_row(row) for row in rows.all()}

    async def save_snapshots(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Upsert `snapshots` in one statement; a stored newer status is never overwritten."""
        rows = [snapshot_row(s, now=now) for s in snapshots]
        if not rows:
            return
        insert = upsert_into(self._connection, dossier_snapshots)
        excluded = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=["code"],
            set_={name: excluded[name] for name in rows[0] if name != "code"},
            # The poller and a pushed event may race: the later status always wins.
            where=excluded.status_changed_at >= dossier_snapshots.c.status_changed_at,
        )
        await self._connection.execute(upsert, rows)

    async def remember(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Store snapshots of dossiers not seen yet (stored ones are kept)."""
        rows = [snapshot_row(s, now=now) for s in snapshots]
        if rows:
            insert = upsert_into(self._connection, dossier_snapshots).on_conflict_do_nothing(
                index_elements=["code"]
            )
            await self._connection.execute(insert, rows)

    async def overdue_candidates(self, *, now: datetime, limit: int) -> list[Snapshot]:
        """Snapshots past their appointment date without a result nor an overdue notice."""
        query = (
            select(dossier_snapshots)
            .where(
                dossier_snapshots.c.due_at < now,
                dossier_snapshots.c.overdue_notified_at.is_(None),
                dossier_snapshots.c.status.in_(OVERDUE_CANDIDATES),
            )
            .order_by(dossier_snapshots.c.due_at, dossier_snapshots.c.code)
            .limit(limit)
        )
        rows = (await self._connection.execute(query)).mappings().all()
        return [snapshot_from_row(row) for row in rows]

    async def mark_overdue_notified(self, codes: Sequence[str], *, now: datetime) -> None:
        """Record that the overdue notice of `codes` was dealt with at `now`."""
        if codes:
            await self._connection.execute(
                update(dossier_snapshots)
                .where(dossier_snapshots.c.code.in_(bindparam("codes", expanding=True)))
                .values(overdue_notified_at=now),
                {"codes": list(codes)},
            )

    # ------------------------------------------------------------------ the cursor

    async def cursor(self) -> str | None:
        """The stored changes-feed cursor, if any."""
        query = select(watch_state.c.value).where(watch_state.c.key == CURSOR_KEY)
        value: str | None = (await self._connection.execute(query)).scalar()
        return value

    async def advance_cursor(self, expected: str | None, new: str, *, now: datetime) -> bool:
        """Move the cursor from `expected` to `new`; False if another process moved it first."""
        if expected is None:
            statement = (
                upsert_into(self._connection, watch_state)
                .values(key=CURSOR_KEY, value=new, updated_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        else:
            statement = (
                update(watch_state)
                .where(watch_state.c.key == CURSOR_KEY, watch_state.c.value == expected)
                .values(value=new, updated_at=now)
            )
        return rowcount(await self._connection.execute(statement)) == 1

    # ------------------------------------------------------------------ the lease

    async def take_lease(self, holder: str, *, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the polling lease; whether `holder` holds it."""
        await self._connection.execute(
            upsert_into(self._connection, watch_state)
            .values(key=LEADER_KEY, holder=None, lease_until=None, updated_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result = await self._connection.execute(
            update(watch_state)
            .where(
                watch_state.c.key == LEADER_KEY,
                or_(
                    watch_state.c.holder == holder,
                    watch_state.c.holder.is_(None),
                    watch_state.c.lease_until < now,
                ),
            )
            .values(holder=holder, lease_until=now + ttl, updated_at=now)
        )
        return rowcount(result) == 1

    async def release_lease(self, holder: str, *, now: datetime) -> None:
        """Give the lease up at once, if `holder` holds it."""
        await self._connection.execute(
            update(watch_state)
            .where(watch_state.c.key == LEADER_KEY, watch_state.c.holder == holder)
            .values(holder=None, lease_until=None, updated_at=now)
        )

    # ------------------------------------------------------------------ pushed events

    async def record_events(self, ids: Sequence[str], *, now: datetime) -> set[str]:
        """Record pushed event ids; the ones not seen before."""
        if not ids:
            return set()
        insert = (
            upsert_into(self._connection, processed_case_events)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(processed_case_events.c.id)
        )
        new: set[str] = set()
        for event_id in dict.fromkeys(ids):
            # One statement per id: RETURNING with executemany is not portable to every driver.
            row = (
                await self._connection.execute(insert.values(id=event_id, received_at=now))
            ).first()
            if row is not None:
                new.add(row.id)
        return new

    async def purge_events(self, before: datetime) -> int:
        """Forget pushed event ids received before `before`; how many."""
        result = await self._connection.execute(
            delete(processed_case_events).where(processed_case_events.c.received_at < before)
        )
        return rowcount(result)
