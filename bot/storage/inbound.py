"""`SqlInboundJournalRepository`: the inbound journal's SQL (see `bot.storage.tables_inbound`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import JournaledUpdate
from bot.storage.dialect import insert_for
from bot.storage.tables_inbound import inbound_updates as t

# Every chat update is recorded and finished: those two statements are built once (building
# one, and working out its cache key, cost more than running it).


@functools.cache
def _record(dialect: str) -> Any:
    # executemany with RETURNING: one statement for the batch ("insertmanyvalues"),
    # compiled once whatever the batch size.
    return (
        insert_for(dialect, t)
        .on_conflict_do_nothing(index_elements=["channel", "update_key"])
        .returning(t.c.update_key)
    )


_FINISH = (
    update(t)
    .where(
        t.c.channel == bindparam("the_channel"),
        t.c.update_key.in_(bindparam("keys", expanding=True)),
    )
    .values(
        state=bindparam("the_state"),
        payload=None,
        lease_until=None,
        finished_at=bindparam("now"),
    )
)


class SqlInboundJournalRepository:
    """The inbound journal on one connection; implements `bot.ports.InboundJournalRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def record(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        *,
        now: datetime,
        lease_until: datetime,
    ) -> set[str]:
        """Store the (key, payload) updates not stored before; the keys that were new.

        New rows are pending and leased to the caller until `lease_until`; a key already
        stored (a repeated delivery) is left as it is. One statement for the whole batch.
        """
        if not updates:
            return set()
        rows = [
            {
                "channel": channel,
                "update_key": key,
                "state": "pending",
                "payload": payload,
                "received_at": now,
                "lease_until": lease_until,
                "attempts": 1,
            }
            for key, payload in dict(updates).items()
        ]
        statement = _record(self._connection.dialect.name)
        return {str(key) for key in (await self._connection.execute(statement, rows)).scalars()}

    async def finish(
        self, channel: str, keys: Sequence[str], *, now: datetime, state: str = "done"
    ) -> None:
        """Mark the updates answered ("done") or set aside ("failed"); their content is erased."""
        if state not in ("done", "failed"):
            raise ValueError(f"not a finished state: {state}")
        if not keys:
            return
        await self._connection.execute(
            _FINISH,
            {"the_channel": channel, "keys": list(keys), "the_state": state, "now": now},
        )

    async def extend(self, channel: str, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Renew the lease of pending updates the caller is still working on."""
        if not keys:
            return
        await self._connection.execute(
            update(t)
            .where(
                t.c.channel == channel,
                t.c.update_key.in_(list(keys)),
                t.c.state == "pending",
            )
            .values(lease_until=lease_until)
        )

    async def claim_unfinished(
        self,
        channel: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        expired_only: bool = True,
    ) -> list[JournaledUpdate]:
        """Pending updates of `channel` whose lease ran out (or all, without `expired_only`),
        oldest first, now leased to the caller, each attempt counted."""
        query = (
            select(t.c.update_key)
            .where(t.c.channel == channel, t.c.state == "pending")
            .order_by(t.c.received_at, t.c.update_key)
            .limit(limit)
        )
        if expired_only:
            query = query.where(t.c.lease_until < now)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        keys = list((await self._connection.execute(query)).scalars())
        if not keys:
            return []
        result = await self._connection.execute(
            update(t)
            .where(t.c.channel == channel, t.c.update_key.in_(keys))
            .values(lease_until=lease_until, attempts=t.c.attempts + 1)
            .returning(t.c.update_key, t.c.payload, t.c.attempts, t.c.received_at)
        )
        claimed = [
            JournaledUpdate(
                channel=channel,
                key=str(row.update_key),
                payload=str(row.payload or ""),
                attempts=int(row.attempts),
                received_at=row.received_at,
            )
            for row in result
        ]
        return sorted(claimed, key=lambda u: (u.received_at, u.key))

    async def purge(self, *, finished_before: datetime) -> int:
        """Forget finished updates older than `finished_before`; how many."""
        result = await self._connection.execute(
            delete(t).where(t.c.state != "pending", t.c.finished_at < finished_before)
        )
        return int(result.rowcount or 0)
