"""The one-trip SQLite cursor keeps every DB-API answer SQLAlchemy relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_rows_rowcount_and_primary_keys(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(sa.insert(items).values(name="a"))
        assert first.inserted_primary_key == (1,)
        await conn.execute(sa.insert(items), [{"name": "b"}, {"name": "c"}])  # executemany
        returned = await conn.execute(
            sa.insert(items).values(name="d").returning(items.c.id, items.c.name)
        )
        assert returned.all() == [(4, "d")]
        updated = await conn.execute(
            sa.update(items).where(items.c.id > 2).values(name=items.c.name + "!")
        )
        assert updated.rowcount == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(items.c.name).order_by(items.c.id))).scalars().all()
        assert rows == ["a", "b", "c!", "d!"]
        partial = await conn.execute(sa.select(items.c.id).order_by(items.c.id))
        assert partial.fetchmany(3) == [(1,), (2,), (3,)]
        assert partial.fetchone() == (4,)
        assert partial.fetchone() is None


async def test_errors_reach_the_caller_and_the_transaction_rolls_back(engine: AsyncEngine) -> None:
    async def insert_twice() -> None:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(items).values(name="x"))
            await conn.execute(sa.insert(items).values(name="x"))

    with pytest.raises(sa.exc.IntegrityError):
        await insert_twice()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 0
