"""The one dialect-aware INSERT of the storage layer (SQLite and PostgreSQL alike).

Both dialects' INSERT constructs support ``ON CONFLICT … DO NOTHING / DO UPDATE`` and
``RETURNING`` with the same SQLAlchemy API; the generic `sqlalchemy.insert` has neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.schema import Table


def insert_for(dialect: str, table: Table) -> Any:
    """The INSERT of dialect `dialect` ("sqlite" or "postgresql") into `table`.

    Use it with a dialect name for statements built once and cached per dialect.
    """
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported dialect {dialect}")


def upsert_into(conn: AsyncConnection, table: Table) -> Any:
    """`insert_for` the dialect of `conn`."""
    return insert_for(conn.dialect.name, table)


def rowcount(result: CursorResult[Any]) -> int:
    """The rows a statement changed (0 when the driver cannot tell)."""
    return max(result.rowcount, 0)
