"""Zalo channel: the Official Account's OAuth token pair and the webhook deliveries seen.

Revision ID: 0005_zalo
Revises: 0001
Create Date: 2025-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_zalo"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create zalo_tokens and zalo_seen_events."""
    op.create_table(
        "zalo_tokens",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_zalo_tokens_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_tokens")),
    )
    op.create_table(
        "zalo_seen_events",
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_zalo_seen_events")),
    )
    op.create_index("ix_zalo_seen_events_seen_at", "zalo_seen_events", ["seen_at"], unique=False)


def downgrade() -> None:
    """Drop the Zalo tables."""
    op.drop_index("ix_zalo_seen_events_seen_at", table_name="zalo_seen_events")
    op.drop_table("zalo_seen_events")
    op.drop_table("zalo_tokens")
