"""The storage layer's errors, translated at the unit of work's edge into the ports' own.

Code outside `bot.storage` catches `bot.ports.StorageUnavailable` or `bot.ports.RecordRefused`
and never imports SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

from bot.ports import RecordRefused, StorageUnavailable


def refused_record(error: BaseException) -> bool:
    """Whether `error` is the database refusing a record (a value it cannot hold, a broken
    constraint) rather than the database failing: the first sets one item aside, the second
    must stop the work so that nothing is skipped."""
    if isinstance(error, DataError | IntegrityError):
        return True
    # A value the driver could not even bind (e.g. a year out of range) never left the process.
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)


def translated(error: BaseException) -> Exception | None:
    """The ports' error for a database error that leaves a unit of work (None for others)."""
    if not isinstance(error, SQLAlchemyError):
        return None
    if refused_record(error):
        return RecordRefused(type(error).__name__)
    return StorageUnavailable(f"the database failed ({type(error).__name__})")
