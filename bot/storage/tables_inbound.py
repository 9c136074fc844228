"""The inbound journal: chat updates stored before they are acknowledged (migration 0010).

`inbound_updates` has one row per update a channel received (Telegram's ``update_id``, Zalo's
delivery key), written before the platform is told "received" (the webhook's 200, the next
``getUpdates`` offset) and marked done once the update has been answered. A pending row whose
lease has run out belongs to a process that died: another (or the restarted) one replays it.
A done row keeps only its key, so a repeated delivery is recognised; the content (the
citizen's text, a shared phone number) is erased when the update is done, and the key purged
after a few days.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text

from bot.storage.tables import UTCDateTime, metadata

INBOUND_STATES = (
    "pending",  # stored, not yet answered
    "done",  # answered (or answered as well as it could be)
    "failed",  # set aside after too many attempts; kept only as a key
)

inbound_updates = Table(
    "inbound_updates",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("update_key", String(160), primary_key=True),
    Column("state", String(8), nullable=False),
    Column("payload", Text, nullable=True),  # the update as received; NULL once finished
    Column("received_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    CheckConstraint("state IN ('pending', 'done', 'failed')", name="state"),
)

# Replay looks for a channel's pending rows; the purge for old finished ones.
Index("ix_inbound_updates_pending", inbound_updates.c.channel, inbound_updates.c.state)
Index("ix_inbound_updates_finished_at", inbound_updates.c.finished_at)
