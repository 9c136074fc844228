"""Tables of the officials' web workspace (`bot.office`); migration ``0008_office`` creates them.

- `staff_accounts`: the officials who may sign in, their role and the agencies they see.
  Passwords are stored as argon2 hashes only.
- `staff_sessions`: one row per signed-in browser, under the SHA-256 of the session token the
  (signed) cookie carries, so a copy of the database does not hand out live sessions. Signing
  out, disabling an account or changing its password deletes the rows.
- `staff_audit`: every state-changing action in the workspace and on the `motcua staff`
  command line: who, what, on which target, when. Kept by username (not a foreign key), so the
  trail outlives the account.
- `usage_daily`: counters per local day, agency and metric (``lookup``), one upsert each.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from bot.storage.tables import UTCDateTime, metadata

STAFF_ROLES = ("viewer", "manager", "admin")

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("agencies", JSON, nullable=False),  # list of agency codes ([] for an admin)
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("role IN ('viewer', 'manager', 'admin')", name="role"),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "staff_id",
        Integer,
        ForeignKey("staff_accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("detail", String(500), nullable=False),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("day", Integer, nullable=False),  # local day as YYYYMMDD
    Column("agency_code", String(64), nullable=False),
    Column("metric", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "agency_code", "metric"),
)

# The usage page reads a range of days for some agencies.
Index("ix_usage_daily_agency_code_day", usage_daily.c.agency_code, usage_daily.c.day)
