"""Bring a database's schema up to date with the Alembic migrations shipped in this package.

`upgrade` needs no alembic.ini and no particular working directory, so it works from an
installed package; it is idempotent and safe to run on every start, also when several
processes start at once (they take turns).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.storage.engine import create_engine, write_transaction

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Any constant will do: it names the PostgreSQL advisory lock that serialises upgrades.
_ADVISORY_LOCK_ID = 0x6D6F7463  # "motc"

log = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for this package's migrations, built without a file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation: a literal "%" in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revisions() -> tuple[str, ...]:
    """The newest revisions shipped with this package, sorted (one: the history is linear)."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


async def upgrade(url: str) -> None:
    """Apply every migration the database at `url` lacks (none: nothing happens)."""
    from bot.storage.readiness import probe

    engine = create_engine(url)
    try:
        await probe(engine, url)  # one line for a database that is not there
        async with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                # Held until commit; a concurrent upgrade waits, then finds nothing to do.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID}
                )
            before = await conn.run_sync(_current_revisions)
            await conn.run_sync(_upgrade)
            after = await conn.run_sync(_current_revisions)
        if before != after:
            log.info(
                "database schema upgraded from %s to %s",
                ", ".join(before) or "empty",
                ", ".join(after),
            )
    finally:
        await engine.dispose()


async def current_revisions(url: str) -> tuple[str, ...]:
    """The revisions the database at `url` is at, sorted (empty for an empty database)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current_revisions)
    finally:
        await engine.dispose()


def connection_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database of `connection` is at, sorted (empty: no tables)."""
    return _current_revisions(connection)


def _current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
