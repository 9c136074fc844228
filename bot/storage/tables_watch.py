"""Tables of the watcher: the changes-feed cursor and leader lease, dossier snapshots, and the
ids of pushed case events already processed, and the dossier changes set aside (quarantine).

They are defined on the shared `bot.storage.tables.metadata`; migration ``0003_watch``
creates them.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text

from bot.domain.intake import CODE_CHARS, NAME_CHARS, PROCEDURE_NAME_CHARS
from bot.storage.tables import UTCDateTime, metadata

# One row per key: "cursor" holds the changes-feed cursor in `value`; "leader" is the polling
# lease on databases without advisory locks (SQLite): `holder` until `lease_until`.
watch_state = Table(
    "watch_state",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", String(255), nullable=True),
    Column("holder", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The last state of every dossier the bot has seen in the changes feed or a pushed event.
# The watcher compares each change with it; the timeliness report reads returned ones.
dossier_snapshots = Table(
    "dossier_snapshots",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("status_changed_at", UTCDateTime, nullable=False),
    # The lengths `bot.domain.intake.stored_text` cuts these texts to (with "…").
    Column("agency_code", String(CODE_CHARS), nullable=False),
    Column("agency_name", String(NAME_CHARS), nullable=False),
    Column("procedure_code", String(CODE_CHARS), nullable=False),
    Column("procedure_name", String(PROCEDURE_NAME_CHARS), nullable=False),
    Column("field", String(NAME_CHARS), nullable=False),
    Column("received_at", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("original_due_at", UTCDateTime, nullable=True),
    Column("returned_at", UTCDateTime, nullable=True),
    Column("delivery", String(16), nullable=False),
    Column("overdue_notified_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The overdue sweep looks for passed appointment dates; the timeliness report for results
# handed over in a period.
Index("ix_dossier_snapshots_due_at", dossier_snapshots.c.due_at)
Index("ix_dossier_snapshots_returned_at", dossier_snapshots.c.returned_at)

processed_case_events = Table(
    "processed_case_events",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
)

# Old ids are purged by age.
Index("ix_processed_case_events_received_at", processed_case_events.c.received_at)

# Dossier changes set aside (issue 12): an item of the changes feed or a pushed case event
# that broke the contract or that the database refused. `payload` is the item's JSON as sent,
# bounded (`bot.domain.intake.MAX_RAW_CHARS`); it may hold an applicant's name, so it is shown
# only on an operator's request and never logged. An open row (resolved_at NULL) is refreshed
# when the same dossier is set aside again and resolved when a valid version supersedes it.
quarantined_items = Table(
    "quarantined_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("dossier_code", String(64), nullable=True),
    Column("event_id", String(128), nullable=True),
    Column("reason", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("times_seen", Integer, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    CheckConstraint("source IN ('feed', 'event')", name="source"),
)

# Superseding looks items up by dossier; the purge by resolution time.
Index("ix_quarantined_items_dossier_code", quarantined_items.c.dossier_code)
Index("ix_quarantined_items_resolved_at", quarantined_items.c.resolved_at)
