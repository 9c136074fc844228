"""Limiting a query to some agencies' dossiers by the dossier code alone.

A dossier code starts with its receiving agency's electronic identifier
(``000.00.53.H48-220921-0099``, design §1), so rows that keep only the code (the outbox,
ownerships, subscriptions) can still be scoped to the agencies an official answers for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def about_agencies(code_column: Any, agencies: Sequence[str]) -> ColumnElement[bool]:
    """A condition: `code_column` holds a dossier code of one of `agencies`."""
    if not agencies:
        return false()
    return or_(
        *(code_column.like(f"{_escape_like(code)}-%", escape="\\") for code in sorted(agencies))
    )


def agency_of(dossier_code: str) -> str:
    """The agency code a dossier code starts with (the code itself when it has no date part)."""
    head, _sep, _rest = dossier_code.partition("-")
    return head
