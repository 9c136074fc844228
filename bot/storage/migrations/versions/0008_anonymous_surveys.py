"""Anonymous survey responses: a keyed hash instead of the dossier code, no timestamps.

Responses were filed under the dossier code, which names the applicant to anyone who can
look the code up, and stamped to the microsecond, which matches them to the dossier's
return time. This revision:

- creates `survey_secrets` with a random server secret (64 hex characters);
- replaces every response's dossier code by HMAC-SHA256(secret, code) in place and renames
  the column to `dossier_key` (SQLite cannot drop a UNIQUE column without rebuilding the
  table, and a rebuild would cascade-delete the answers; the unique constraint keeps its
  name);
- drops `survey_responses.started_at` and `survey_answers.answered_at` (the month stays).

Downgrade restores the columns' shapes, not their contents: the codes and times are gone.

Revision ID: 0008_anonymous_surveys
Revises: 0007_one_history
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_anonymous_surveys"
down_revision: str | Sequence[str] | None = "0007_one_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_NAME = "dossier_key"  # noqa: S105 - the name of the secret's row, not a secret


def _key(secret: str, code: str) -> str:
    # The same computation as surveys.repository.dossier_key (migrations import no app code).
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    """Hash the codes, rename the column, drop the timestamps."""
    op.create_table(
        "survey_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.CheckConstraint("length(secret) >= 32", name=op.f("ck_survey_secrets_long_enough")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_survey_secrets")),
    )
    secret = secrets.token_hex(32)
    connection = op.get_bind()
    table = sa.table("survey_secrets", sa.column("name"), sa.column("secret"))
    connection.execute(sa.insert(table).values(name=SECRET_NAME, secret=secret))
    responses = sa.table("survey_responses", sa.column("id"), sa.column("dossier_code"))
    rows = connection.execute(sa.select(responses.c.id, responses.c.dossier_code)).all()
    for response_id, code in rows:
        connection.execute(
            sa.update(responses)
            .where(responses.c.id == response_id)
            .values(dossier_code=_key(secret, code))
        )
    op.execute("ALTER TABLE survey_responses RENAME COLUMN dossier_code TO dossier_key")
    op.execute("ALTER TABLE survey_responses DROP COLUMN started_at")
    op.execute("ALTER TABLE survey_answers DROP COLUMN answered_at")


def downgrade() -> None:
    """Give the columns back their old names and shapes (their contents cannot return)."""
    op.execute("ALTER TABLE survey_responses RENAME COLUMN dossier_key TO dossier_code")
    epoch = sa.text("'1970-01-01 00:00:00+00:00'")
    op.add_column(
        "survey_responses",
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=epoch),
    )
    op.add_column(
        "survey_answers",
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False, server_default=epoch),
    )
    op.drop_table("survey_secrets")
