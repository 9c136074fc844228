"""One history: merge the feature branches 0002–0006 into a single head.

Revisions 0002 to 0006 each followed 0001, so the history had five heads and
``alembic upgrade head`` refused ("Multiple head revisions"). This revision changes no
schema; it joins them, so every later migration has one parent and the Alembic command line
works as its documentation says.

Revision ID: 0007_one_history
Revises: 0002_outbox, 0003_watch, 0004_surveys, 0005_zalo, 0006_rate_limit_one_row
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_one_history"
down_revision: str | Sequence[str] | None = (
    "0002_outbox",
    "0003_watch",
    "0004_surveys",
    "0005_zalo",
    "0006_rate_limit_one_row",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the merge only joins the branches."""


def downgrade() -> None:
    """Nothing to change: the merge only joins the branches."""
