"""The core schema, as SQLAlchemy Core tables on the shared `metadata`.

Feature modules add their own tables to `metadata` (see `bot.storage.schema`). Every change
needs an Alembic migration: `tests/storage/test_migrations.py` fails when the migrations and
the tables disagree. Generate one with ``MOTCUA_DATABASE_URL=sqlite:///data/dev.db alembic -c
bot/storage/alembic.ini revision --autogenerate --rev-id NNNN_name -m "…"`` and review it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones: values are stored as UTC
    without an offset (so they still compare and sort correctly as text) and come back with
    ``tzinfo=UTC``. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC for storage."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


OWNERSHIP_METHODS = ("pin", "phone", "deeplink")

chat_users = Table(
    "chat_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("channel_user_id", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("blocked", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # Also the index every incoming message uses to find its user.
    UniqueConstraint("channel", "channel_user_id"),
)

dossier_owners = Table(
    "dossier_owners",
    metadata,
    Column("user_id", Integer, ForeignKey("chat_users.id", ondelete="CASCADE"), nullable=False),
    Column("dossier_code", String(64), nullable=False),
    Column("method", String(16), nullable=False),
    Column("verified_at", UTCDateTime, nullable=False),
    # The phone number the owner proved ownership with (method "phone" only): the one number a
    # ZNS template message may go to. Never logged.
    Column("phone", String(20), nullable=True),
    # Leading user_id: serves is_owner, list_for_user and the cascade from chat_users.
    PrimaryKeyConstraint("user_id", "dossier_code"),
    CheckConstraint("method IN ('pin', 'phone', 'deeplink')", name="method"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("user_id", Integer, ForeignKey("chat_users.id", ondelete="CASCADE"), nullable=False),
    Column("dossier_code", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(32), nullable=True),
    PrimaryKeyConstraint("user_id", "dossier_code"),
)

# The watcher asks "who follows dossier X?" for every change it sees; only active rows matter,
# and ended subscriptions pile up over the years, so the index is partial.
Index(
    "ix_subscriptions_active_dossier_code",
    subscriptions.c.dossier_code,
    # SQLite only uses a partial index when the query repeats its WHERE term; SQLAlchemy
    # renders a boolean test as "active = 1" there, so the index must say the same.
    sqlite_where=subscriptions.c.active == true(),
    postgresql_where=subscriptions.c.active,
)

# One row per limited key: a token bucket kept as GCRA's "theoretical arrival time" (tat_ms,
# milliseconds since the epoch), with the growing back-off's state and the policy it was last
# taken under. Keys are a kind and a keyed hash (`bot.limits`), never a user id, so erasing
# a user's data leaves them in place; a row expires on its own (`expires_ms`).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(64), nullable=False),
    Column("tat_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    # attempts taken since the bucket was last at rest, and the steps of the back-off
    Column("level", Integer, nullable=False),
    Column("next_step_ms", BigInteger, nullable=False),
    Column("last_step_ms", BigInteger, nullable=False),
    # the policy (`bot.ports.Bucket`) of the latest reservation
    Column("capacity", Integer, nullable=False),
    Column("step_ms", BigInteger, nullable=False),
    Column("max_step_ms", BigInteger, nullable=False),
    Column("rest_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("key"),
)

# For purging rows that carry no limit any more.
Index("ix_rate_limits_expires_ms", rate_limits.c.expires_ms)

# Secrets generated on first start and shared by every process (e.g. the key of the keyed
# hashes under which limits are kept, when MOTCUA_SERVER_SECRET is not set).
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("chat_users.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("kind", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
