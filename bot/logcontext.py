"""What a log line is about: the channel, the internal user id, the dossier code, the outbox id.

Adapters bind these as they learn them (`bind`); every log record made in the same task
afterwards carries them (`ContextFilter`), in the JSON format as fields and in the text
format as a short suffix. Only identifiers go here, never a name, phone number, PIN or
token. Each message or push starts from an empty context (`fresh`), so nothing leaks from
one citizen's message into the next one's lines.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final

# The fields, in the order the text format shows them.
FIELDS: Final = ("channel", "user_id", "dossier", "outbox_id")
_KNOWN: Final = frozenset(FIELDS)

_context: ContextVar[dict[str, str | int]] = ContextVar("motcua_log_context")


def bind(**fields: str | int | None) -> None:
    """Add `fields` (from `FIELDS`; None values are skipped) to the current task's context."""
    if not _KNOWN.issuperset(fields):
        unknown = ", ".join(sorted(set(fields) - _KNOWN))
        raise ValueError(f"not a log context field: {unknown}")
    given = {key: value for key, value in fields.items() if value is not None}
    if given:
        _context.set({**_context.get({}), **given})


@contextlib.contextmanager
def fresh(**fields: str | int | None) -> Iterator[None]:
    """A new context for one unit of work (a message, a push), restored afterwards."""
    token = _context.set({})
    try:
        bind(**fields)
        yield
    finally:
        _context.reset(token)


def current() -> dict[str, str | int]:
    """The fields bound in this task now."""
    return dict(_context.get({}))


class ContextFilter(logging.Filter):
    """Puts the current context on each record as ``record.motcua_context`` (a dict)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the context; never drops a record."""
        record.motcua_context = current()
        return True
