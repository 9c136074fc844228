"""Small helpers for the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.schema import Table

from bot.ports import UnitOfWork

T0 = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


async def row_count(engine: AsyncEngine, table: Table) -> int:
    """How many rows `table` holds, read outside any unit of work."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def followers(uow: UnitOfWork, dossier_code: str) -> list[int]:
    """The user ids of the active subscribers of a dossier."""
    found = await uow.subscriptions.recipients_of([dossier_code])
    return [recipient.user_id for recipient in found.get(dossier_code, [])]
