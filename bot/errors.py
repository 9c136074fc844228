"""Errors meant for the operator: each carries one line that says what is wrong and what to do.

The command line prints such an error as ``motcua: <line>`` and exits non-zero, without a
traceback (`bot.cli.main`).
"""

from __future__ import annotations


class OperatorError(Exception):
    """Something the operator must fix; ``str(error)`` is one line without secrets."""

    exit_code = 1


class DatabaseUnavailable(OperatorError):
    """The database cannot be reached or opened (the URL is shown without its password)."""


class SchemaNotReady(OperatorError):
    """The database exists but lacks the tables (run ``motcua db upgrade``)."""
