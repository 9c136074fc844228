"""The storage layer's errors, for callers that must tell "the database failed" apart.

Code outside `bot.storage` catches `StorageError` instead of importing SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

StorageError = SQLAlchemyError
"""Any failure of the database or of a statement sent to it."""
