"""Agency codes of feedback and unanswered messages hold 64 characters, as elsewhere.

They were 32: on PostgreSQL a dossier whose agency code was longer made the citizen's
feedback fail to be stored (SQLite ignores the length). Codes are now cut to 64 characters
(`bot.domain.intake.CODE_CHARS`, with "…") by every storage adapter, like the snapshots'.

Revision ID: 0016_feedback_code_lengths
Revises: 0015_survey_answer_totals
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_feedback_code_lengths"
down_revision: str | None = "0015_survey_answer_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("feedback_items", "unanswered_messages")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "agency_code",
                type_=sa.String(64),
                existing_type=sa.String(32),
                existing_nullable=True,
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "agency_code",
                type_=sa.String(32),
                existing_type=sa.String(64),
                existing_nullable=True,
            )
