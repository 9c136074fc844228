"""Migrations: fresh upgrade, idempotence, concurrent starts, and agreement with tables.py."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from bot.storage.engine import create_engine
from bot.storage.migrate import alembic_config, current_revisions, head_revisions, upgrade
from bot.storage.schema import load_metadata, table_modules
from bot.storage.tables import UTCDateTime

# The fixed-window counters as 0001 made them (0008 replaced them by `rate_limits`).
rate_limit_counters = Table(
    "rate_limit_counters",
    MetaData(),
    Column("key", String(128), primary_key=True),
    Column("window_start", UTCDateTime, primary_key=True),
    Column("count", Integer),
)

metadata = load_metadata()

TABLES = {
    "chat_users",
    "dossier_owners",
    "subscriptions",
    "rate_limits",
    "server_secrets",
    "conversations",
}


async def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str, target: MetaData) -> list[Any]:
    def compare(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(
            sync, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_schema_and_is_idempotent(empty_database_url: str) -> None:
    assert await current_revisions(empty_database_url) == ()
    await upgrade(empty_database_url)
    assert await current_revisions(empty_database_url) == head_revisions()
    assert await _table_names(empty_database_url) >= TABLES

    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    assert await current_revisions(empty_database_url) == head_revisions()


async def test_concurrent_upgrades_on_start_do_not_collide(empty_database_url: str) -> None:
    await asyncio.gather(*(upgrade(empty_database_url) for _ in range(4)))
    assert await current_revisions(empty_database_url) == head_revisions()


async def test_migrations_match_the_tables(empty_database_url: str) -> None:
    """Fails when a table module changed without a migration: write one (see tables.py)."""
    await upgrade(empty_database_url)
    assert await _diff(empty_database_url, metadata) == []


def _normalized(predicate: object) -> str:
    return "".join(ch for ch in str(predicate).lower() if ch not in ' ()"')


async def test_partial_index_predicates_match_the_tables(empty_database_url: str) -> None:
    """Alembic's comparison ignores index WHERE clauses; check them here."""
    await upgrade(empty_database_url)

    def predicates(sync: Connection) -> tuple[dict[str, str], dict[str, str]]:
        dialect = sync.dialect
        expected: dict[str, str] = {}
        for table in metadata.sorted_tables:
            for index in table.indexes:
                where = index.dialect_options[dialect.name].get("where")
                if where is not None and index.name is not None:
                    # As CREATE INDEX renders it (unqualified column names).
                    ddl = str(CreateIndex(index).compile(dialect=dialect))
                    expected[index.name] = _normalized(ddl.split(" WHERE ", 1)[1])
        inspector = inspect(sync)
        found: dict[str, str] = {}
        for table_name in inspector.get_table_names():
            for reflected in inspector.get_indexes(table_name):
                where = reflected.get("dialect_options", {}).get(f"{dialect.name}_where")
                if where is not None and reflected["name"] is not None:
                    found[reflected["name"]] = _normalized(getattr(where, "text", where))
        return expected, found

    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            expected, found = await conn.run_sync(predicates)
    finally:
        await engine.dispose()
    assert expected  # the subscriptions index at least
    assert found == expected


async def test_the_check_notices_a_missing_migration(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["chat_users"].append_column(Column("nickname", String(32)))
    diff = await _diff(empty_database_url, changed)
    assert [entry[0] for entry in diff] == ["add_column"]


async def _run_alembic(url: str, action: Any) -> None:
    """Run `action(config)` (an alembic command) on `url` in one transaction."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync: Connection) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync
                action(config)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_downgrade_to_nothing_and_back(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await _run_alembic(empty_database_url, lambda config: command.downgrade(config, "base"))
    assert not TABLES & await _table_names(empty_database_url)
    await upgrade(empty_database_url)
    assert await current_revisions(empty_database_url) == head_revisions()


async def test_rate_limit_counters_keep_each_keys_newest_window(empty_database_url: str) -> None:
    """0006 keys the counters by key alone: of a key's windows only the newest stays."""
    await _run_alembic(empty_database_url, lambda config: command.upgrade(config, "0001"))
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            early = datetime(2026, 11, 29, 8, tzinfo=UTC)
            late = early + timedelta(minutes=1)
            await conn.execute(
                insert(rate_limit_counters),
                [
                    {"key": "a", "window_start": early, "count": 5},
                    {"key": "a", "window_start": late, "count": 2},
                    {"key": "b", "window_start": early, "count": 1},
                ],
            )
    finally:
        await engine.dispose()
    await _run_alembic(
        empty_database_url, lambda config: command.upgrade(config, "0006_rate_limit_one_row")
    )
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text('SELECT "key", count FROM rate_limit_counters ORDER BY "key"')
            )
            assert [tuple(row) for row in rows] == [("a", 2), ("b", 1)]
    finally:
        await engine.dispose()
    await _run_alembic(empty_database_url, lambda config: command.downgrade(config, "0001"))


async def test_upgrade_works_from_any_directory_with_a_plain_url(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here
    plain = make_url(empty_database_url)
    plain = plain.set(drivername=plain.drivername.split("+")[0])
    await upgrade(plain.render_as_string(hide_password=False))
    assert await current_revisions(empty_database_url) == head_revisions()


def test_the_history_has_exactly_one_head() -> None:
    # Two heads make `alembic upgrade head` fail with "Multiple head revisions": a new
    # migration must follow the current head, or a merge revision must join the branches.
    assert len(head_revisions()) == 1, head_revisions()


def test_the_alembic_command_line_upgrades_to_head(tmp_path: Path) -> None:
    # What the Alembic documentation says to run, from the project's root.
    database = tmp_path / "cli.db"
    root = Path(__file__).resolve().parents[2]
    finished = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "bot/storage/alembic.ini", "upgrade", "head"],
        cwd=root,
        env={**os.environ, "MOTCUA_DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    with sqlite3.connect(database) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert (version,) == head_revisions()


def test_every_revision_descends_from_the_first() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_bases() == ["0001"]
    for head in head_revisions():
        assert "0001" in {rev.revision for rev in script.iterate_revisions(head, "base")}


def test_table_modules_are_found() -> None:
    assert "bot.storage.tables" in table_modules()
    assert set(metadata.tables) >= TABLES
