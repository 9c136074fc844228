"""Limits as reservations: token buckets with a growing back-off under keyed-hash keys.

`rate_limit_counters` (fixed windows, keys naming the internal user id) becomes `rate_limits`
(one GCRA bucket per key, `bot.storage.rate_limits`). The old counters are not carried over:
their keys named user rows, the very thing the new keys must not depend on, and they held at
most a day of limits. `server_secrets` keeps secrets generated on first start.

Revision ID: 0011_limit_reservations
Revises: 0010_inbound_journal
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_limit_reservations"
down_revision: str | None = "0010_inbound_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace the fixed-window counters by buckets; add the server secrets."""
    op.drop_index("ix_rate_limit_counters_window_start", table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("tat_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("next_step_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_step_ms", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("step_ms", sa.BigInteger(), nullable=False),
        sa.Column("max_step_ms", sa.BigInteger(), nullable=False),
        sa.Column("rest_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index("ix_rate_limits_expires_ms", "rate_limits", ["expires_ms"])
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    """Back to fixed-window counters (empty: bucket state has no window equivalent)."""
    op.drop_table("server_secrets")
    op.drop_index("ix_rate_limits_expires_ms", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index("ix_rate_limit_counters_window_start", "rate_limit_counters", ["window_start"])
