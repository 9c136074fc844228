"""Tables of the Zalo channel, on the shared `bot.storage.tables.metadata` (migration 0005_zalo).

- `zalo_tokens`: the Official Account's OAuth pair. One row (id 1). Zalo's refresh token is
  single-use, so the pair is replaced in one transaction that holds the row's write lock;
  `version` counts rotations, so a process can tell that another one refreshed meanwhile.

Webhook deliveries are recorded in the inbound journal (`inbound_updates`, migration 0010);
`zalo_seen_events`, which did that before, is dropped by migration 0013.

There is no table of the users' last messages: the 7-day chat window is judged by Zalo
itself (error -230), because Zalo also counts interactions this bot never sees (the OA's
menu, its profile page, calls). See docs/zalo.md.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Integer, Table, Text

from bot.storage.tables import UTCDateTime, metadata

TOKEN_ROW_ID = 1

zalo_tokens = Table(
    "zalo_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    # Unknown (NULL) for the pair seeded from the settings: it is used until Zalo refuses it.
    Column("expires_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
