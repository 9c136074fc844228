"""Signed deep-link payloads for the receipt QR code (channel-neutral).

A payload carries a dossier code and a truncated HMAC-SHA256 over it, keyed with
``MOTCUA_DEEP_LINK_SECRET``. Whoever holds the printed receipt can open the link and is taken
as the dossier's owner; nobody can make a valid payload for another code without the secret.

Format (at most 64 characters of ``[A-Za-z0-9_-]``, Telegram's ``/start`` limit)::

    base64url(packed code) || base64url(tag)        # no padding, tag: 12 bytes = 16 chars

The code is packed as a bijective base-39 number over the characters a dossier code uses
(digits, upper-case letters, ``.`` and ``-``): the canonical 25-character code takes 17 bytes,
23 characters, so a whole payload is 39 characters. The tag is computed over a domain
separation label, a format version and the packed bytes, so it can not be confused with any
other HMAC the project makes with the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

MAX_PAYLOAD_CHARS = 64
TAG_BYTES = 12  # 96 bits
_TAG_CHARS = 16  # len(base64url(12 bytes)) without padding
_DOMAIN = b"motcua/receipt-deep-link/v1\x00"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-"
_BASE = len(_ALPHABET) + 1  # bijective numeration: digit values 1..38, never 0
_INDEX = {char: value for value, char in enumerate(_ALPHABET, start=1)}
_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]+")
# The longest code that still fits: 64 chars - 16 tag chars = 48 chars = 36 bytes = 288 bits,
# and each code character needs log2(39) ≈ 5.29 bits.
MAX_CODE_CHARS = 54


def make_payload(code: str, secret: str) -> str:
    """The signed ``/start`` payload for dossier `code`.

    Raises ValueError for an empty secret, or a code with characters a dossier code never has
    or too long to fit in 64 characters.
    """
    if not secret:
        raise ValueError("the deep link secret is empty")
    packed = _pack(code)
    payload = _b64(packed) + _b64(_tag(packed, secret))
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise ValueError("dossier code too long for a deep link")
    return payload


def read_payload(payload: str, secret: str) -> str | None:
    """The dossier code a payload made by `make_payload` with `secret` carries.

    None for anything else: forged, truncated, made with another secret, or malformed.
    """
    if (
        not secret
        or len(payload) > MAX_PAYLOAD_CHARS
        or len(payload) <= _TAG_CHARS
        or not _PAYLOAD_RE.fullmatch(payload)
    ):
        return None
    body, tag_text = payload[:-_TAG_CHARS], payload[-_TAG_CHARS:]
    packed, tag = _unb64(body), _unb64(tag_text)
    if packed is None or tag is None:
        return None
    if not hmac.compare_digest(tag, _tag(packed, secret)):
        return None
    return _unpack(packed)


def telegram_link(bot_username: str, payload: str) -> str:
    """The ``t.me`` link that opens the bot and sends ``/start <payload>``."""
    return f"https://t.me/{bot_username.removeprefix('@')}?start={payload}"


def _tag(packed: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), _DOMAIN + packed, hashlib.sha256).digest()[:TAG_BYTES]


def _pack(code: str) -> bytes:
    if not code or len(code) > MAX_CODE_CHARS:
        raise ValueError("a dossier code must have 1 to 54 characters")
    number = 0
    for char in code:
        value = _INDEX.get(char)
        if value is None:
            raise ValueError("a dossier code has only digits, capital letters, '.' and '-'")
        number = number * _BASE + value
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _unpack(packed: bytes) -> str | None:
    number = int.from_bytes(packed, "big")
    if number == 0 or packed[0] == 0:  # only ever made without leading zero bytes
        return None
    chars: list[str] = []
    while number:
        number, value = divmod(number, _BASE)
        if value == 0:
            return None
        chars.append(_ALPHABET[value - 1])
    return "".join(reversed(chars))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Strict base64url without padding: None unless `text` is exactly what `_b64` makes."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64(data) == text else None
