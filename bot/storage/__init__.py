"""Storage adapters: SQLAlchemy Core on SQLite (aiosqlite) or PostgreSQL (asyncpg).

Build once at start: ``await upgrade(url)``, ``engine = create_engine(url)``,
``uow_factory = SqlUnitOfWorkFactory(engine, clock)``; pass `uow_factory` wherever a
`bot.ports.UnitOfWorkFactory` is wanted.
"""

from bot.storage.engine import create_engine, normalize_url, write_transaction
from bot.storage.migrate import upgrade
from bot.storage.tables import metadata
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = [
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "create_engine",
    "metadata",
    "normalize_url",
    "upgrade",
    "write_transaction",
]
