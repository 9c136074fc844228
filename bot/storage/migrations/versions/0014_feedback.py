"""Feedback, complaints and unanswered messages kept for the office (issue 14).

Revision ID: 0014_feedback
Revises: 0013_drop_zalo_seen_events
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_feedback"
down_revision: str | None = "0013_drop_zalo_seen_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the feedback and unanswered tables (bot.storage.tables_feedback)."""
    op.create_table(
        "unanswered_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_messages")),
    )
    with op.batch_alter_table("unanswered_messages", schema=None) as batch_op:
        batch_op.create_index("ix_unanswered_messages_created_at", ["created_at"], unique=False)

    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("procedure_code", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "kind IN ('feedback', 'complaint')", name=op.f("ck_feedback_items_kind")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'closed')", name=op.f("ck_feedback_items_status")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["chat_users.id"],
            name=op.f("fk_feedback_items_user_id_chat_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
    )
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_items_agency_code_created_at", ["agency_code", "created_at"], unique=False
        )
        batch_op.create_index("ix_feedback_items_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_feedback_items_user_id", ["user_id"], unique=False)

    op.create_table(
        "feedback_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("staff_username", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "author IN ('citizen', 'staff')", name=op.f("ck_feedback_messages_author")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_messages_feedback_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_messages")),
    )
    with op.batch_alter_table("feedback_messages", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_messages_feedback_id", ["feedback_id"], unique=False)


def downgrade() -> None:
    """Drop the feedback and unanswered tables."""
    with op.batch_alter_table("feedback_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_messages_feedback_id")

    op.drop_table("feedback_messages")
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_items_user_id")
        batch_op.drop_index("ix_feedback_items_created_at")
        batch_op.drop_index("ix_feedback_items_agency_code_created_at")

    op.drop_table("feedback_items")
    with op.batch_alter_table("unanswered_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_unanswered_messages_created_at")

    op.drop_table("unanswered_messages")
