"""Alembic environment for motcua: async engines, SQLite batch mode, shared connections.

`bot.storage.migrate.upgrade` passes an open connection in ``config.attributes["connection"]``.
From the command line (``alembic -c bot/storage/alembic.ini …``) the URL comes from the
``sqlalchemy.url`` option or the MOTCUA_DATABASE_URL environment variable.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.storage.engine import create_engine
from bot.storage.schema import load_metadata
from bot.storage.tables import UTCDateTime

# Every table module is imported (and nothing else), so autogenerate sees every table.
metadata = load_metadata()

config = context.config


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import application types: spell UTCDateTime as what it stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        # Our engines begin SQLite transactions explicitly, so DDL is transactional there too.
        transactional_ddl=True,
    )


def _run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MOTCUA_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or MOTCUA_DATABASE_URL")
    return url


if context.is_offline_mode():
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    shared = config.attributes.get("connection")
    if shared is not None:
        _run_on(shared)
    else:
        # Command-line use only: an application keeps its own logging configuration.
        if config.config_file_name is not None:
            fileConfig(config.config_file_name, disable_existing_loggers=False)
        asyncio.run(_run_async(_url()))
