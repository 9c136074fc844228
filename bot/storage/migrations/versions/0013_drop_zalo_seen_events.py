"""Drop zalo_seen_events: the inbound journal (0010) recognises repeated Zalo deliveries.

Revision ID: 0013_drop_zalo_seen_events
Revises: 0012_office
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_drop_zalo_seen_events"
down_revision: str | None = "0012_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop zalo_seen_events (its rows only served de-duplication, for three days)."""
    op.drop_index("ix_zalo_seen_events_seen_at", table_name="zalo_seen_events")
    op.drop_table("zalo_seen_events")


def downgrade() -> None:
    """Create zalo_seen_events again, empty."""
    op.create_table(
        "zalo_seen_events",
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_zalo_seen_events")),
    )
    op.create_index("ix_zalo_seen_events_seen_at", "zalo_seen_events", ["seen_at"], unique=False)
