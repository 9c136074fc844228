"""Quarantine of dossier changes; far-future snapshot times settled.

Adds `quarantined_items` (issue 12 finding 5): items of the changes feed or pushed case
events that broke the contract or could not be stored, kept with their reason instead of
blocking everyone else's notices.

Snapshots stored before this revision with a `status_changed_at` (or `received_at`,
`returned_at`) far ahead of the moment they were stored would mute every later real change
of their dossier; they are taken back to that moment, as the watcher now does on arrival.

Revision ID: 0009_quarantine
Revises: 0008_anonymous_surveys
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_quarantine"
down_revision: str | Sequence[str] | None = "0008_anonymous_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As `bot.domain.intake.FUTURE_SKEW`: five minutes.
_SKEW_SECONDS = 300


def upgrade() -> None:
    """Create `quarantined_items`; settle far-future snapshot times."""
    op.create_table(
        "quarantined_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("source IN ('feed', 'event')", name=op.f("ck_quarantined_items_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_items")),
    )
    op.create_index(
        op.f("ix_quarantined_items_dossier_code"), "quarantined_items", ["dossier_code"]
    )
    op.create_index(op.f("ix_quarantined_items_resolved_at"), "quarantined_items", ["resolved_at"])
    _settle_future_snapshot_times()


def _settle_future_snapshot_times() -> None:
    """Past-tense times stored far ahead of their row's `updated_at` become `updated_at`."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column in ("status_changed_at", "received_at", "returned_at"):
        if postgresql:
            late = f"{column} > updated_at + interval '{_SKEW_SECONDS} seconds'"
        else:
            # SQLite keeps UTC times as text; datetime() brings both sides to one spelling.
            late = f"datetime({column}) > datetime(updated_at, '+{_SKEW_SECONDS} seconds')"
        op.execute(
            sa.text(f"UPDATE dossier_snapshots SET {column} = updated_at WHERE {late}")  # noqa: S608
        )


def downgrade() -> None:
    """Drop `quarantined_items` (settled times stay settled)."""
    op.drop_index(op.f("ix_quarantined_items_resolved_at"), table_name="quarantined_items")
    op.drop_index(op.f("ix_quarantined_items_dossier_code"), table_name="quarantined_items")
    op.drop_table("quarantined_items")
