"""The survey tables, on the shared metadata; migrations ``0004_surveys`` and
``0008_anonymous_surveys`` create them.

Privacy (design §6): `survey_responses` and `survey_answers` carry the dossier's agency,
procedure, field and month, never the chat user, the dossier code or a timestamp. A response
is filed under `dossier_key`, a keyed hash (HMAC-SHA256 with the secret in `survey_secrets`)
of the dossier code: enough to refuse a second survey of the same dossier, useless to find
the dossier without the secret. Only `survey_sessions` — the conversation state of a survey in
progress — names the user and the dossier, and its row is deleted when the survey ends.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import conv

from bot.storage.tables import UTCDateTime, metadata

# The server secret of the dossier keys: one row, made by migration 0008 (or on first use).
survey_secrets = Table(
    "survey_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("secret", String(128), nullable=False),
    CheckConstraint("length(secret) >= 32", name="long_enough"),
)

# One row per dossier surveyed (at most one survey per dossier), created with its first answer.
# `period_month` is the local (Asia/Ho_Chi_Minh) month the survey started, as YYYYMM: no
# finer time is kept, so a response cannot be matched to a dossier by when it was returned.
survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dossier_key", String(64), nullable=False),
    Column("survey_id", String(32), nullable=False),
    Column("agency_code", String(64), nullable=False),
    Column("agency_name", String(255), nullable=False),
    Column("procedure_code", String(64), nullable=False),
    Column("procedure_name", String(500), nullable=False),
    Column("field", String(255), nullable=False),
    Column("period_month", Integer, nullable=False),
    # Named after the column it was made on: 0008 renamed the column to dossier_key in place
    # (SQLite cannot drop a UNIQUE column without rebuilding the table, which would cascade).
    UniqueConstraint("dossier_key", name=conv("uq_survey_responses_dossier_code")),
)

Index("ix_survey_responses_period_month", survey_responses.c.period_month)
# Covers counting responses per agency (with its name) for a period: the index by agency.
Index(
    "ix_survey_responses_period_month_agency",
    survey_responses.c.period_month,
    survey_responses.c.agency_code,
    survey_responses.c.agency_name,
)

# Every answer as it is given. The grouping columns are copied from the response so that
# scoring is one pass over this table with no join (answers are written once, read in bulk).
survey_answers = Table(
    "survey_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "response_id",
        Integer,
        ForeignKey("survey_responses.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("question_id", String(24), nullable=False),
    Column("kind", String(8), nullable=False),  # scale5 | rating3 | choice | text
    Column("element", String(16), nullable=True),  # SIPAS element of scale5 answers
    Column("score", SmallInteger, nullable=True),  # 1..5 (scale5) or 1..3 (rating3)
    Column("choice", String(24), nullable=True),  # option id of choice answers
    Column("comment", String(1000), nullable=True),  # free text, never logged
    Column("agency_code", String(64), nullable=False),
    Column("procedure_code", String(64), nullable=False),
    Column("field", String(255), nullable=False),
    Column("period_month", Integer, nullable=False),
    UniqueConstraint("response_id", "question_id"),
)

# Covering indexes for `motcua index --by …`: the aggregation reads only the index.
Index(
    "ix_survey_answers_agency",
    survey_answers.c.period_month,
    survey_answers.c.agency_code,
    survey_answers.c.kind,
    survey_answers.c.element,
    survey_answers.c.score,
)

# A survey in progress: which question the citizen is on and how they got there. Deleted when
# the survey is finished, stopped or expired, so the user link lives only while it is open.
survey_sessions = Table(
    "survey_sessions",
    metadata,
    Column("dossier_code", String(64), primary_key=True),
    Column(
        "response_id",
        Integer,
        ForeignKey("survey_responses.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "user_id",
        Integer,
        ForeignKey("chat_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("survey_id", String(32), nullable=False),
    Column("question_id", String(24), nullable=False),
    Column("history", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

Index("ix_survey_sessions_expires_at", survey_sessions.c.expires_at)

# How many answers of each score each agency got per month, question kind and element (""
# for the quick rating): what the index by agency (and over every agency) is computed from,
# a few hundred rows a month instead of every answer. Database triggers (migration
# 0015_survey_answer_totals) keep it exact on every insert, update and delete of
# `survey_answers`, in the same transaction as the answer.
survey_answer_totals = Table(
    "survey_answer_totals",
    metadata,
    Column("period_month", Integer, nullable=False),
    Column("agency_code", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("element", String(16), nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("answers", Integer, nullable=False),
    PrimaryKeyConstraint("period_month", "agency_code", "kind", "element", "score"),
)
