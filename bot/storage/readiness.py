"""Is the database there, and is its schema the one this motcua needs?

Used by the commands that need the tables (they refuse in one line instead of failing on
"no such table", and never create an empty SQLite file) and by ``/readyz``. Connection
problems become one `DatabaseUnavailable` line naming the URL without its password.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DatabaseUnavailable, SchemaNotReady
from bot.storage.engine import create_engine, normalize_url, ping
from bot.storage.migrate import connection_revisions, head_revisions

UPGRADE_HINT = "run `motcua db upgrade`"

# The head this installation ships does not change while it runs; read the scripts once.
_shipped_head = functools.cache(head_revisions)


def display_url(url: str) -> str:
    """`url` as an operator may see it: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        scheme, sep, _ = url.partition("://")
        return f"{scheme}://…" if sep else "<not a URL>"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = normalize_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _reason(error: BaseException) -> str:
    """The first line of what the driver said, without SQLAlchemy's wrapping."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    words = str(cause).strip() or type(cause).__name__
    return words.splitlines()[0]


@contextlib.contextmanager
def translated_connection_errors(url: str) -> Iterator[None]:
    """Turn a failure to connect to `url` into a one-line `DatabaseUnavailable`."""
    try:
        yield
    except (DBAPIError, OSError, TimeoutError) as error:
        shown, reason = display_url(url), _reason(error)
        raise DatabaseUnavailable(f"cannot open the database {shown}: {reason}") from None


async def probe(engine: AsyncEngine, url: str) -> None:
    """Connect once and run ``SELECT 1``; `DatabaseUnavailable` if that fails."""
    with translated_connection_errors(url):
        await ping(engine)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a reachable database's schema stands."""

    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        """Whether every migration shipped with this motcua is applied."""
        return self.current == self.head


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """The database's revisions next to the shipped head (raises if unreachable)."""
    async with engine.connect() as conn:
        current = await conn.run_sync(connection_revisions)
    return SchemaStatus(current=current, head=_shipped_head())


@contextlib.asynccontextmanager
async def migrated_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database that exists and is at head, else one line saying what to do.

    An SQLite file that does not exist is not created (no empty database is left behind).
    """
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise SchemaNotReady(f"there is no database at {path}: {UPGRADE_HINT} to create it")
    engine = create_engine(url)
    try:
        await probe(engine, url)
        try:
            status = await schema_status(engine)
        except SQLAlchemyError as error:
            raise DatabaseUnavailable(
                f"cannot read the database {display_url(url)}: {_reason(error)}"
            ) from None
        if not status.current:
            raise SchemaNotReady(
                f"the database {display_url(url)} has no tables yet: {UPGRADE_HINT}"
            )
        if not status.at_head:
            raise SchemaNotReady(
                f"the database {display_url(url)} is at revision {', '.join(status.current)}, "
                f"this motcua needs {', '.join(status.head)}: {UPGRADE_HINT}"
            )
        yield engine
    finally:
        await engine.dispose()
