"""The stored rows as they are, for tests: what no port offers, on either storage.

The application reads and writes only through the repositories of a unit of work. A test
sometimes has to look beneath them — every column of the outbox rows a rule queued, the
subscription row a stop ended, the keys the limits are kept under — or to put rows into a
state the ports reach only through a long story (a push dead after five attempts, one
finished a month ago). These functions do it on a SQL database (its engine, or a
`SqlUnitOfWorkFactory`) and on the in-memory twin (`MemoryUnitOfWorkFactory`) alike, so no
test needs SQLAlchemy or the twin's internals. Nothing in `bot/` or `surveys/` uses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.outbox import OutboxState
from bot.storage.memory import MemoryTables, MemoryUnitOfWorkFactory
from bot.storage.schema import load_metadata
from bot.storage.tables import rate_limits, subscriptions
from bot.storage.tables_outbox import outbox
from bot.storage.uow import SqlUnitOfWorkFactory

Store = AsyncEngine | SqlUnitOfWorkFactory | MemoryUnitOfWorkFactory
"""A storage to look into: a migrated database's engine, units of work on one, or the twin."""

# The twin's attribute (of `MemoryTables`) holding each SQL table's rows, for `row_count`.
_TWIN_TABLES = {
    "chat_users": "users",
    "dossier_owners": "owners",
    "subscriptions": "subscriptions",
    "rate_limits": "rate_limits",
    "conversations": "conversations",
    "outbox": "outbox",
    "dossier_snapshots": "snapshots",
    "processed_case_events": "case_events",
    "quarantined_items": "quarantine",
    "survey_responses": "responses",
    "survey_answers": "answers",
    "survey_sessions": "survey_sessions",
    "inbound_updates": "inbound",
}


def _engine(store: Store) -> AsyncEngine | None:
    if isinstance(store, SqlUnitOfWorkFactory):
        return store.engine
    return store if isinstance(store, AsyncEngine) else None


def _tables(store: Store) -> MemoryTables:
    assert isinstance(store, MemoryUnitOfWorkFactory)
    return store.database.tables


async def outbox_rows(store: Store, **where: Any) -> list[dict[str, Any]]:
    """The outbox rows whose columns equal `where`'s values, as dicts of every column, by
    id (in the twin, `state` is an `OutboxState`, equal to its SQL spelling)."""
    engine = _engine(store)
    if engine is None:
        stored = sorted(_tables(store).outbox.values(), key=lambda row: row.id)
        found = [dataclasses.asdict(row) for row in stored]
        return [row for row in found if all(row[k] == v for k, v in where.items())]
    query = select(outbox).order_by(outbox.c.id)
    for column, value in where.items():
        query = query.where(outbox.c[column] == value)
    async with engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings()]


async def update_outbox(
    store: Store, values: Mapping[str, Any], *, dedup_key: str | None = None
) -> int:
    """Set columns of the outbox row with `dedup_key` (of every row when None); how many
    rows. Committed at once."""
    engine = _engine(store)
    if engine is None:
        rows = [
            row
            for row in _tables(store).outbox.values()
            if dedup_key is None or row.dedup_key == dedup_key
        ]
        for row in rows:
            for column, value in values.items():
                setattr(row, column, OutboxState(value) if column == "state" else value)
        return len(rows)
    statement = update(outbox).values(**values)
    if dedup_key is not None:
        statement = statement.where(outbox.c.dedup_key == dedup_key)
    async with engine.begin() as conn:
        return (await conn.execute(statement)).rowcount


async def subscription_row(store: Store, user_id: int, code: str) -> dict[str, Any]:
    """The subscription row of `user_id` for `code`, every column (it must exist)."""
    engine = _engine(store)
    if engine is None:
        stored = _tables(store).subscriptions[(user_id, code)]
        return {"user_id": user_id, "dossier_code": code, **dataclasses.asdict(stored)}
    query = select(subscriptions).where(
        subscriptions.c.user_id == user_id, subscriptions.c.dossier_code == code
    )
    async with engine.connect() as conn:
        return dict((await conn.execute(query)).mappings().one())


async def rate_limit_keys(store: Store) -> list[str]:
    """The keys of every stored limit, sorted."""
    engine = _engine(store)
    if engine is None:
        return sorted(_tables(store).rate_limits)
    async with engine.connect() as conn:
        keys = (await conn.execute(select(rate_limits.c.key))).scalars().all()
    return sorted(keys)


async def row_count(store: Store, table: str) -> int:
    """How many rows the table named `table` holds (committed ones)."""
    engine = _engine(store)
    if engine is None:
        stored: Mapping[Any, Any] = getattr(_tables(store), _TWIN_TABLES[table])
        return len(stored)
    query = select(func.count()).select_from(load_metadata().tables[table])
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())
