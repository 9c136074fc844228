"""The webhook signature Zalo sends in ``X-ZEvent-Signature``.

``mac=`` followed by the hex SHA-256 digest (a plain digest, not an HMAC) of the app id, the
raw request body, the ``timestamp`` field of that body and the OA secret key, concatenated.
The body must be hashed exactly as received: parsing and re-serialising it changes it.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-ZEvent-Signature"
_PREFIX = "mac="


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
