"""Rate-limit counters: one row per key, its current window reset in place.

The primary key was (key, window_start): a key's first hit in each new window inserted a row
and then deleted the key's earlier ones, a second statement on most lookups (a citizen rarely
looks up twice within a minute). Keyed by `key` alone, the same upsert starts the new window.
Only each key's newest window is kept; older ones no longer counted anything.

Revision ID: 0006_rate_limit_one_row
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_rate_limit_one_row"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLDER_WINDOWS = """
DELETE FROM rate_limit_counters
WHERE window_start < (
    SELECT max(newest.window_start) FROM rate_limit_counters AS newest
    WHERE newest."key" = rate_limit_counters."key"
)
"""


def upgrade() -> None:
    """Keep each key's newest window, then key the table by `key` alone."""
    op.execute(_OLDER_WINDOWS)
    with op.batch_alter_table("rate_limit_counters") as batch:
        batch.drop_constraint("pk_rate_limit_counters", type_="primary")
        batch.create_primary_key("pk_rate_limit_counters", ["key"])


def downgrade() -> None:
    """Key the table by (key, window_start) again; the rows stay valid."""
    with op.batch_alter_table("rate_limit_counters") as batch:
        batch.drop_constraint("pk_rate_limit_counters", type_="primary")
        batch.create_primary_key("pk_rate_limit_counters", ["key", "window_start"])
