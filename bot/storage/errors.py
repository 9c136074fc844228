"""The storage layer's errors, for callers that must tell "the database failed" apart.

Code outside `bot.storage` catches `StorageError` instead of importing SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)

StorageError = SQLAlchemyError
"""Any failure of the database or of a statement sent to it."""


def refused_record(error: BaseException) -> bool:
    """Whether `error` is the database refusing a record (a value it cannot hold, a broken
    constraint) rather than the database failing: the first sets one item aside, the second
    must stop the work so that nothing is skipped."""
    if isinstance(error, DataError | IntegrityError):
        return True
    # A value the driver could not even bind (e.g. a year out of range) never left the process.
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)
