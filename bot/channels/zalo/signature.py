"""The webhook signature Zalo sends in ``X-ZEvent-Signature``.

``mac=`` followed by the hex SHA-256 digest (a plain digest, not an HMAC) of the app id, the
raw request body, the ``timestamp`` field of that body and the OA secret key, concatenated.
The body must be hashed exactly as received: parsing and re-serialising it changes it.

The timestamp the digest covers is inside the body. Reading it must not mean parsing an
unauthenticated body (a deeply nested document is an attack on the parser), so
`timestamp_candidates` finds the ``"timestamp"`` members in the raw bytes with a bounded
pattern; the caller tries each, and after parsing the verified body checks that the
top-level ``timestamp`` is the one that verified.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_HEADER = "X-ZEvent-Signature"
_PREFIX = "mac="
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?([0-9]{1,20})"?')
MAX_TIMESTAMP_CANDIDATES = 4


def timestamp_candidates(body: bytes) -> list[str]:
    """The values of the first few ``"timestamp"`` members in `body`, without parsing it."""
    found: list[str] = []
    for match in _TIMESTAMP.finditer(body):
        value = match.group(1).decode()
        if value not in found:
            found.append(value)
        if len(found) == MAX_TIMESTAMP_CANDIDATES:
            break
    return found


def sign(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The header value Zalo computes for `body` (used by the tests' fake Zalo too)."""
    digest = hashlib.sha256(
        app_id.encode() + body + timestamp.encode() + secret.encode()
    ).hexdigest()
    return _PREFIX + digest


def is_valid(header: str | None, app_id: str, body: bytes, timestamp: str, secret: str) -> bool:
    """Whether `header` is the right signature of `body`; compared in constant time."""
    if not header or not app_id or not secret:
        return False
    expected = sign(app_id, body, timestamp, secret)
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())
