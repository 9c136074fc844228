"""Tables of the transactional outbox and of the dispatcher's shared pacing.

They are defined on the shared `bot.storage.tables.metadata`; migration ``0002_outbox``
creates them.

- `outbox`: one row per push to one user (see `bot.ports.Notice`), with its delivery state.
- `outbox_user_pacing`: per chat user, the earliest time the next push may be sent to them
  (Telegram allows one message per second per chat), shared by every dispatcher process.
- `outbox_channel_pacing`: per channel, the next free send slot of the channel's overall
  budget (and any flood-control pause), shared by every dispatcher process.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    false,
)

from bot.domain.outbox import OutboxState
from bot.storage.tables import UTCDateTime, metadata

# The states' spelling in the database: the enum's values, in its order.
_STATES = ", ".join(f"'{state.value}'" for state in OutboxState)

# SQLite has no 64-bit serial: INTEGER PRIMARY KEY is its rowid, which is 64-bit anyway.
_ID = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("chat_users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("dossier_code", String(64), nullable=True),
    Column("params", JSON, nullable=False),
    Column("dedup_key", String(255), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    # Fences a claim: results are recorded only if the row still carries this token, so a
    # dispatcher whose lease ran out cannot overwrite what the one that took over recorded.
    Column("claim_token", String(64), nullable=True),
    Column("urgent", Boolean, nullable=False, server_default=false()),
    Column("not_before", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_error", String(200), nullable=True),  # an error class and code, never PII
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    CheckConstraint(f"state IN ({_STATES})", name="state"),
)

# The claim looks for due rows (queued / retrying whose time has come) and for rows whose
# lease ran out (their dispatcher died): one index range per state. (Not partial indexes:
# PostgreSQL rewrites a text IN predicate, so the schema check could not compare them.)
Index("ix_outbox_state_next_attempt_at", outbox.c.state, outbox.c.next_attempt_at)
Index("ix_outbox_state_lease_until", outbox.c.state, outbox.c.lease_until)
# release_held (by user) and the cascade from chat_users.
Index("ix_outbox_user_id_state", outbox.c.user_id, outbox.c.state)
# cancel (by dossier and kind).
Index("ix_outbox_dossier_code_kind", outbox.c.dossier_code, outbox.c.kind)

outbox_user_pacing = Table(
    "outbox_user_pacing",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("chat_users.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("next_send_at", UTCDateTime, nullable=False),
)

outbox_channel_pacing = Table(
    "outbox_channel_pacing",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("next_slot_at", UTCDateTime, nullable=False),
)
