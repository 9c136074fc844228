"""Database fixtures shared by every test.

`database_url` is parametrized over SQLite and PostgreSQL, so every test that uses it (or
`engine`, or `uow_factory`) runs on both. Each test gets a clean, migrated database:

- SQLite: a copy of a template file migrated once per session (a file copy per test);
- PostgreSQL: one uniquely named database per session, created through the admin URL
  (env MOTCUA_TEST_POSTGRES_URL, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``),
  migrated once, emptied (TRUNCATE) before each test, dropped at the end.

`empty_database_url` is a database without any tables, for migration tests (PostgreSQL: a
second session database whose schema is dropped and re-created before each test).

When PostgreSQL is unreachable its tests are skipped, unless the environment variable CI is
set: then they fail, because CI must really run them. Select one side with ``-m postgres`` or
``-m "not postgres"``.

`storage_url` is where a test's whole bot keeps its data (`tests.support.runtime`): the
in-memory twin by default, for tests whose database is not the point; a clean SQLite and
PostgreSQL database, as `database_url`, for a test marked ``@pytest.mark.sql``, where it is
(``-m sql`` selects those; tests taking `database_url` or `engine` are on SQL anyway).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from bot.aio import loop_factory
from bot.storage.engine import DatabaseEngine, DatabaseUrl, create_engine, normalize_url
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.support.runtime import MEMORY_URL

POSTGRES_ADMIN_URL = os.environ.get(
    "MOTCUA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

DATABASE_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]

MEMORY_BACKEND = pytest.param("memory", id="memory")

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``sql`` marker."""
    config.addinivalue_line(
        "markers",
        "sql: the database is the point: `storage_url` is SQLite and PostgreSQL instead of "
        "the in-memory twin",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`storage` (behind `storage_url`) is the in-memory twin, or for a test marked ``sql``
    SQLite and PostgreSQL in turn."""
    if "storage" in metafunc.fixturenames:
        sql = metafunc.definition.get_closest_marker("sql") is not None
        metafunc.parametrize("storage", DATABASE_BACKENDS if sql else [MEMORY_BACKEND])


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    """Async tests run on the loop `motcua` runs on (`bot.aio.loop_factory`): uvloop where it
    is installed, which is everywhere but Windows."""
    factory = loop_factory()
    return None if factory is None else {"uvloop": factory}


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a private event loop in another thread.

    For setup that must not touch the test's own loop (or happens while it is running).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _asyncpg_dsn(url: DatabaseUrl) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(admin: DatabaseUrl, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _empty_all_tables(url: DatabaseUrl) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        names = [
            row["name"]
            for row in await conn.fetch(
                "SELECT quote_ident(tablename) AS name FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ]
        if not names:
            return
        # TRUNCATE costs milliseconds per table: only empty the tables the last test used.
        used = await conn.fetch(
            " UNION ALL ".join(
                f"SELECT {number} AS number WHERE EXISTS (SELECT 1 FROM {quoted})"
                for number, quoted in enumerate(names)
            )
        )
        if used:
            tables = ", ".join(names[row["number"]] for row in used)
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


class PostgresServer:
    """The PostgreSQL server the tests use; makes and drops uniquely named databases."""

    def __init__(self, admin_url: DatabaseUrl) -> None:
        self.admin_url = admin_url

    def create_database(self, purpose: str) -> DatabaseUrl:
        """A new empty database; its URL (asyncpg driver)."""
        name = f"motcua_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        run_async(_admin_execute(self.admin_url, f'CREATE DATABASE "{name}"'))
        return self.admin_url.set(database=name)

    def drop_database(self, url: DatabaseUrl) -> None:
        """Drop a database made by `create_database`, disconnecting whoever still uses it."""
        run_async(
            _admin_execute(self.admin_url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        )


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The test PostgreSQL server; skipped if unreachable (failed when CI is set)."""
    admin = normalize_url(POSTGRES_ADMIN_URL)
    try:
        run_async(_admin_execute(admin, "SELECT 1"))
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {admin.render_as_string()} is unreachable: {error!r}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    return PostgresServer(admin)


@pytest.fixture(scope="session")
def _postgres_session_database(postgres_server: PostgresServer) -> Iterator[DatabaseUrl]:
    url = postgres_server.create_database("test")
    try:
        run_async(upgrade(url.render_as_string(hide_password=False)))
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("database") / "template.db"
    run_async(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=DATABASE_BACKENDS)
def database_backend(request: pytest.FixtureRequest) -> str:
    """The database kind, "sqlite" or "postgresql": database tests run once with each."""
    backend: str = request.param
    return backend


@pytest.fixture
def database_url(database_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a clean database migrated to the newest revision, for this test only."""
    return _clean_database_url(database_backend, request, tmp_path)


def _clean_database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> str:
    if database_backend == "sqlite":
        path = tmp_path / "motcua.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: DatabaseUrl = request.getfixturevalue("_postgres_session_database")
    run_async(_empty_all_tables(url))
    return url.render_as_string(hide_password=False)


@pytest.fixture
def storage_url(storage: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the bot under test keeps its data: `MEMORY_URL` (the in-memory twin, see
    `tests.support.runtime.open_chat_runtime`), or for a test marked ``sql`` the URL of a clean
    migrated SQLite or PostgreSQL database."""
    if storage == "memory":
        return MEMORY_URL
    return _clean_database_url(storage, request, tmp_path)


@pytest.fixture(scope="session")
def _postgres_scratch_database(postgres_server: PostgresServer) -> Iterator[DatabaseUrl]:
    url = postgres_server.create_database("scratch")
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


async def _drop_everything(url: DatabaseUrl) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture
def empty_database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> str:
    """The URL of a database with no tables at all (for migration tests)."""
    if database_backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'motcua.db'}"
    url: DatabaseUrl = request.getfixturevalue("_postgres_scratch_database")
    run_async(_drop_everything(url))
    return url.render_as_string(hide_password=False)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[DatabaseEngine]:
    """An engine on `database_url` (already migrated with `bot.storage.migrate.upgrade`)."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(engine: DatabaseEngine) -> SqlUnitOfWorkFactory:
    """Units of work on `engine`, with the system clock."""
    return SqlUnitOfWorkFactory(engine)


STORAGE_BACKENDS = [pytest.param("memory", id="memory"), *DATABASE_BACKENDS]


@pytest.fixture(params=STORAGE_BACKENDS)
async def any_uow_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqlUnitOfWorkFactory | MemoryUnitOfWorkFactory]:
    """Units of work on each storage in turn: the in-memory twin, SQLite and PostgreSQL.

    The conformance tests use it: whatever they check holds for every adapter of the ports.
    The factory's `clock` may be replaced by a test.
    """
    backend: str = request.param
    if backend == "memory":
        yield MemoryUnitOfWorkFactory()
        return
    engine = create_engine(_clean_database_url(backend, request, tmp_path))
    try:
        yield SqlUnitOfWorkFactory(engine)
    finally:
        await engine.dispose()
