"""Feedback, complaints and messages the bot could not answer, kept for the office.

The agreed design (tools/SLICES.md): `feedback_items` is one feedback or complaint with its
state; `feedback_messages` its thread — the citizen's first message is row 1 there as well as
`feedback_items.text`, so a page shows the whole conversation from one table, and staff replies
follow. `unanswered_messages` are what the bot did not understand, kept 30 days. Every citizen
text is stored with its digits masked (phone numbers, PINs); the channel user id is not kept,
only our user id, which goes NULL when the user erases their data.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from bot.domain.intake import CODE_CHARS, stored_text
from bot.storage.tables import UTCDateTime, metadata

FEEDBACK_KINDS = ("feedback", "complaint")
FEEDBACK_STATES = ("open", "answered", "closed")
FEEDBACK_AUTHORS = ("citizen", "staff")


def stored_code(code: str | None) -> str | None:
    """An agency or procedure code as every adapter keeps it: cut to its column's length."""
    return None if code is None else stored_text(code, CODE_CHARS)


feedback_items = Table(
    "feedback_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("user_id", Integer, ForeignKey("chat_users.id", ondelete="SET NULL"), nullable=True),
    Column("agency_code", String(CODE_CHARS), nullable=True),
    Column("procedure_code", String(CODE_CHARS), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    CheckConstraint("kind IN ('feedback', 'complaint')", name="kind"),
    CheckConstraint("status IN ('open', 'answered', 'closed')", name="status"),
)
# Lists are newest first, per agency or for everyone.
Index("ix_feedback_items_created_at", feedback_items.c.created_at)
Index(
    "ix_feedback_items_agency_code_created_at",
    feedback_items.c.agency_code,
    feedback_items.c.created_at,
)
Index("ix_feedback_items_user_id", feedback_items.c.user_id)

feedback_messages = Table(
    "feedback_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "feedback_id",
        Integer,
        ForeignKey("feedback_items.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("author", String(16), nullable=False),
    Column("staff_username", String(64), nullable=True),
    Column("text", Text, nullable=False),
    CheckConstraint("author IN ('citizen', 'staff')", name="author"),
)
Index("ix_feedback_messages_feedback_id", feedback_messages.c.feedback_id)

unanswered_messages = Table(
    "unanswered_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("agency_code", String(CODE_CHARS), nullable=True),
    Column("text", Text, nullable=False),
)
Index("ix_unanswered_messages_created_at", unanswered_messages.c.created_at)
