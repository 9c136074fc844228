"""The rate limits' keys: which limits exist (`LimitKind`), and the one place a key is built.

A key is a `LimitKind` and a keyed hash (HMAC-SHA-256 under the server secret) of what is
limited: a chat account (channel and platform user id), a dossier code, a staff account's
user name or a client address. Without the secret a key cannot be linked back to any of
them, so the limits table keeps nothing personal in the clear.

The format is part of the stored data: rows already in ``rate_limits`` and the erasure note
(``/forget`` leaves limits alone) depend on it, so the keys of an existing kind never change
(tests/domain/test_limits.py pins them).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum


class LimitKind(StrEnum):
    """What a limit counts, and whose. The value starts the key."""

    LOOKUP_MINUTE = "lookup-m"  # lookups by one chat account, per minute
    LOOKUP_HOUR = "lookup-h"  # lookups by one chat account, per hour
    PIN_ACCOUNT = "pin-a"  # receipt PINs tried by one chat account
    PIN_DOSSIER = "pin-d"  # receipt PINs tried on one dossier, by anyone
    PHONE_ACCOUNT = "phone-a"  # shared phone numbers tried by one chat account
    OFFICE_LOGIN_ACCOUNT = "office-login-a"  # sign-ins to one staff account, from anywhere
    OFFICE_LOGIN_ADDRESS = "office-login-ip"  # sign-ins from one client address, to any account


def keyed_hash(secret: str, subject: str) -> str:
    """HMAC-SHA-256 of `subject` under `secret`, 128 bits in hex (what a key stores)."""
    digest = hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def limit_key(kind: LimitKind, secret: str, subject: str) -> str:
    """The key of limit `kind` on `subject` (an account, a dossier code, an address)."""
    return f"{kind.value}:{keyed_hash(secret, f'{kind.value}|{subject}')}"
