"""Surveys: responses, answers and sessions in progress.

Revision ID: 0004_surveys
Revises: 0001
Create Date: 2025-01-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_surveys"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the survey tables."""
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("agency_name", sa.String(length=255), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("procedure_name", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("period_month", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("dossier_code", name=op.f("uq_survey_responses_dossier_code")),
    )
    op.create_index(
        "ix_survey_responses_period_month", "survey_responses", ["period_month"], unique=False
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("element", sa.String(length=16), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("choice", sa.String(length=24), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("period_month", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_survey_answers_response_id_question_id")
        ),
    )
    op.create_index(
        "ix_survey_answers_agency",
        "survey_answers",
        ["period_month", "agency_code", "kind", "element", "score"],
        unique=False,
    )
    op.create_table(
        "survey_sessions",
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.String(length=24), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_sessions_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["chat_users.id"],
            name=op.f("fk_survey_sessions_user_id_chat_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dossier_code", name=op.f("pk_survey_sessions")),
    )
    op.create_index(
        op.f("ix_survey_sessions_user_id"), "survey_sessions", ["user_id"], unique=False
    )
    op.create_index(
        "ix_survey_sessions_expires_at", "survey_sessions", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Drop the survey tables."""
    op.drop_index("ix_survey_sessions_expires_at", table_name="survey_sessions")
    op.drop_index(op.f("ix_survey_sessions_user_id"), table_name="survey_sessions")
    op.drop_table("survey_sessions")
    op.drop_index("ix_survey_answers_agency", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_responses_period_month", table_name="survey_responses")
    op.drop_table("survey_responses")
