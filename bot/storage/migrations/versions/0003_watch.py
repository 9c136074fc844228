"""Watcher: changes-feed cursor and leader lease, dossier snapshots, processed case events.

Revision ID: 0003_watch
Revises: 0001
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_watch"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the watcher's tables."""
    op.create_table(
        "watch_state",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_watch_state")),
    )
    op.create_table(
        "dossier_snapshots",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("agency_name", sa.String(length=255), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("original_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_dossier_snapshots")),
    )
    op.create_index("ix_dossier_snapshots_due_at", "dossier_snapshots", ["due_at"], unique=False)
    op.create_index(
        "ix_dossier_snapshots_returned_at", "dossier_snapshots", ["returned_at"], unique=False
    )
    op.create_table(
        "processed_case_events",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_case_events")),
    )
    op.create_index(
        "ix_processed_case_events_received_at",
        "processed_case_events",
        ["received_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the watcher's tables."""
    op.drop_index("ix_processed_case_events_received_at", table_name="processed_case_events")
    op.drop_table("processed_case_events")
    op.drop_index("ix_dossier_snapshots_returned_at", table_name="dossier_snapshots")
    op.drop_index("ix_dossier_snapshots_due_at", table_name="dossier_snapshots")
    op.drop_table("dossier_snapshots")
    op.drop_table("watch_state")
