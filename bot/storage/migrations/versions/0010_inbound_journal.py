"""The inbound journal: chat updates stored before they are acknowledged.

Revision ID: 0010_inbound_journal
Revises: 0009_quarantine
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_inbound_journal"
down_revision: str | None = "0009_quarantine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create inbound_updates."""
    op.create_table(
        "inbound_updates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_key", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'done', 'failed')", name=op.f("ck_inbound_updates_state")
        ),
        sa.PrimaryKeyConstraint("channel", "update_key", name=op.f("pk_inbound_updates")),
    )
    op.create_index(
        "ix_inbound_updates_pending", "inbound_updates", ["channel", "state"], unique=False
    )
    op.create_index(
        "ix_inbound_updates_finished_at", "inbound_updates", ["finished_at"], unique=False
    )


def downgrade() -> None:
    """Drop inbound_updates."""
    op.drop_index("ix_inbound_updates_finished_at", table_name="inbound_updates")
    op.drop_index("ix_inbound_updates_pending", table_name="inbound_updates")
    op.drop_table("inbound_updates")
