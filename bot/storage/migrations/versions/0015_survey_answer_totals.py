"""Survey answer totals per month, agency, question kind, element and score, kept by triggers.

The satisfaction index by agency (and over every agency) is read from these totals instead of
scanning every answer: the officials' page and ``motcua index --by agency`` then cost the
same with a million answers as with a thousand. Database triggers keep them exact on every
insert, update (an answer replaced) and delete of `survey_answers`, in the same transaction,
whoever writes (the chat, a bulk load); existing answers are counted once here.

Revision ID: 0015_survey_answer_totals
Revises: 0014_feedback
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_survey_answer_totals"
down_revision: str | None = "0014_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTED = "{row}.kind IN ('scale5', 'rating3') AND {row}.score IS NOT NULL"
_KEY = (
    "period_month = {row}.period_month AND agency_code = {row}.agency_code "
    "AND kind = {row}.kind AND element = COALESCE({row}.element, '') AND score = {row}.score"
)
_ADD = (
    "INSERT INTO survey_answer_totals (period_month, agency_code, kind, element, score, answers) "
    "SELECT {row}.period_month, {row}.agency_code, {row}.kind, COALESCE({row}.element, ''), "
    "{row}.score, 1 WHERE " + _COUNTED + " "
    "ON CONFLICT (period_month, agency_code, kind, element, score) "
    "DO UPDATE SET answers = survey_answer_totals.answers + 1"
)
# Constant text only (no input reaches these statements).
_REMOVE = "UPDATE survey_answer_totals SET answers = answers - 1 WHERE " + _KEY + " AND " + _COUNTED  # noqa: S608

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER trg_survey_answer_totals_insert AFTER INSERT ON survey_answers BEGIN "
    + _ADD.format(row="NEW")
    + "; END",
    "CREATE TRIGGER trg_survey_answer_totals_delete AFTER DELETE ON survey_answers BEGIN "
    + _REMOVE.format(row="OLD")
    + "; END",
    "CREATE TRIGGER trg_survey_answer_totals_update AFTER UPDATE ON survey_answers BEGIN "
    + _REMOVE.format(row="OLD")
    + "; "
    + _ADD.format(row="NEW")
    + "; END",
)

# The key of a row's totals, comparable as a row value.
_TOTALS_KEY = (
    "({row}.period_month, {row}.agency_code, {row}.kind, COALESCE({row}.element, ''), {row}.score)"
)
# An answer replaced by another moves one count between two totals rows: they are locked in
# key order, so two citizens' answers changing in opposite directions cannot deadlock.
_POSTGRES_FUNCTION = (
    "CREATE FUNCTION survey_answer_totals_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN " + _ADD.format(row="NEW") + ";\n"
    "  ELSIF TG_OP = 'DELETE' THEN " + _REMOVE.format(row="OLD") + ";\n"
    "  ELSIF "
    + _TOTALS_KEY.format(row="OLD")
    + " IS NOT DISTINCT FROM "
    + _TOTALS_KEY.format(row="NEW")
    + " THEN NULL;\n"
    "  ELSIF "
    + _TOTALS_KEY.format(row="OLD")
    + " < "
    + _TOTALS_KEY.format(row="NEW")
    + " THEN "
    + _REMOVE.format(row="OLD")
    + "; "
    + _ADD.format(row="NEW")
    + ";\n"
    "  ELSE " + _ADD.format(row="NEW") + "; " + _REMOVE.format(row="OLD") + ";\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$"
)
_POSTGRES_TRIGGER = (
    "CREATE TRIGGER trg_survey_answer_totals AFTER INSERT OR UPDATE OR DELETE ON survey_answers "
    "FOR EACH ROW EXECUTE FUNCTION survey_answer_totals_count()"
)

_BACKFILL = (
    "INSERT INTO survey_answer_totals (period_month, agency_code, kind, element, score, answers) "
    "SELECT period_month, agency_code, kind, COALESCE(element, ''), score, count(*) "
    "FROM survey_answers WHERE " + _COUNTED.format(row="survey_answers") + " "
    "GROUP BY period_month, agency_code, kind, COALESCE(element, ''), score"
)


def upgrade() -> None:
    """Create the totals, count the answers already stored, install the triggers."""
    op.create_table(
        "survey_answer_totals",
        sa.Column("period_month", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("element", sa.String(length=16), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period_month", "agency_code", "kind", "element", "score",
            name=op.f("pk_survey_answer_totals"),
        ),
    )  # fmt: skip
    op.create_index(
        "ix_survey_responses_period_month_agency",
        "survey_responses",
        ["period_month", "agency_code", "agency_name"],
        unique=False,
    )
    op.execute(_BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    """Remove the triggers and the totals."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_survey_answer_totals ON survey_answers")
        op.execute("DROP FUNCTION IF EXISTS survey_answer_totals_count()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_survey_answer_totals_{name}")
    op.drop_index("ix_survey_responses_period_month_agency", table_name="survey_responses")
    op.drop_table("survey_answer_totals")
