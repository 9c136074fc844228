"""Loading many rows at once, emptying tables and refreshing the planner's statistics: the
benchmarks' set-up, in the storage layer.

A benchmark fills a database with a year of survey answers or a hundred thousand followed
dossiers before it measures anything; row by row through the repositories that would take
minutes, and what is measured is the database in a steady state, not the way it was filled.
These functions take an engine on a migrated database (`bot.storage.engine.create_engine`)
and rows as column values, by table name, so no benchmark needs SQLAlchemy. The application
never uses them: it writes through the repositories of a unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import is_sqlite
from bot.storage.schema import load_metadata


def _table(name: str) -> Table:
    """The table called `name` (KeyError for a table the schema does not have)."""
    return load_metadata().tables[name]


async def empty_tables(engine: AsyncEngine, *names: str) -> None:
    """Delete every row of the tables `names`, in that order (the referring ones first), in
    one transaction."""
    tables = [_table(name) for name in names]
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(delete(table))


async def insert_rows(
    engine: AsyncEngine, table: str, rows: Sequence[Mapping[str, Any]], *, chunk: int = 20_000
) -> None:
    """Insert `rows` (column values; ids as given) into `table` in one transaction, `chunk`
    rows per statement."""
    target = _table(table)
    async with engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            await conn.execute(insert(target), list(rows[start : start + chunk]))


async def copy_records(
    engine: AsyncEngine,
    table: str,
    columns: Sequence[str],
    records: Sequence[Sequence[Any]],
    *,
    chunk: int = 50_000,
) -> None:
    """Load `records` (values of `columns`, in that order) into `table`: PostgreSQL's COPY,
    after which the id sequence moves past the ids given, if `columns` has ``id``; on SQLite
    inserts in one transaction, `chunk` rows per statement."""
    target = _table(table)
    if is_sqlite(engine):
        async with engine.begin() as conn:
            for start in range(0, len(records), chunk):
                part = records[start : start + chunk]
                rows = [dict(zip(columns, record, strict=True)) for record in part]
                await conn.execute(insert(target), rows)
        return
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's connection
        await driver.copy_records_to_table(
            target.name, records=[tuple(record) for record in records], columns=list(columns)
        )
        if "id" in columns:
            # The name is the schema's own table's (`_table`), never input.
            name = target.name
            sequence = f"pg_get_serial_sequence('{name}', 'id')"
            await driver.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))")  # noqa: S608


async def analyze(engine: AsyncEngine, *tables: str, vacuum: bool = False) -> None:
    """Refresh the planner's statistics of `tables` (of every table when none), as
    autovacuum would after a bulk load: ANALYZE, or on PostgreSQL VACUUM ANALYZE when
    `vacuum` (run outside any transaction, as VACUUM must be)."""
    names = [_table(name).name for name in tables]
    if is_sqlite(engine):
        async with engine.begin() as conn:
            for statement in [f"ANALYZE {name}" for name in names] or ["ANALYZE"]:
                await conn.exec_driver_sql(statement)
        return
    command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"{command} {', '.join(names)}".rstrip()))
