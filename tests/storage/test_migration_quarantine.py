"""Migration 0009: far-future snapshot times, stored before the watcher settled them, are
taken back to the moment they were stored (they would mute their dossier's real changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import insert, select

from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables_watch import dossier_snapshots
from tests.storage.test_migrations import _run_alembic

STORED = datetime(2026, 11, 29, 8, tzinfo=UTC)


def _row(code: str, changed: datetime, returned: datetime | None = None) -> dict[str, object]:
    return {
        "code": code,
        "status": "ready",
        "status_code": 9,
        "status_changed_at": changed,
        "agency_code": "A",
        "agency_name": "A",
        "procedure_code": "P",
        "procedure_name": "P",
        "field": "F",
        "received_at": STORED - timedelta(days=3),
        "due_at": STORED + timedelta(days=400),
        "original_due_at": None,
        "returned_at": returned,
        "delivery": "counter",
        "overdue_notified_at": None,
        "updated_at": STORED,
    }


async def test_far_future_snapshot_times_are_settled(empty_database_url: str) -> None:
    await _run_alembic(
        empty_database_url, lambda config: command.upgrade(config, "0007_one_history")
    )
    far = datetime(2099, 1, 1, tzinfo=UTC)
    near = STORED + timedelta(minutes=4)
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(dossier_snapshots),
                [_row("far", far, returned=far), _row("near", near), _row("past", STORED)],
            )
        await upgrade(empty_database_url)
        async with engine.connect() as conn:
            rows = {
                row["code"]: row
                for row in (await conn.execute(select(dossier_snapshots))).mappings()
            }
    finally:
        await engine.dispose()

    assert rows["far"]["status_changed_at"] == STORED
    assert rows["far"]["returned_at"] == STORED
    assert rows["far"]["due_at"] == STORED + timedelta(days=400)  # ahead by nature: kept
    assert rows["near"]["status_changed_at"] == near  # within the skew: kept
    assert rows["past"]["status_changed_at"] == STORED
