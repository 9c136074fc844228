"""Password hashing for staff accounts: argon2id through argon2-cffi (its tuned defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()

# Verified against when the username is unknown, so a wrong name costs as long as a wrong
# password and response times do not tell which accounts exist.
_DUMMY_HASH = _HASHER.hash("motcua: no such account")

MIN_LENGTH = 10
MAX_LENGTH = 256


class WeakPassword(ValueError):
    """The password is too short or too long."""


def check_strength(password: str) -> None:
    """Refuse passwords shorter than `MIN_LENGTH` (or absurdly long)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (salted; safe to store)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash` (None: no such account, always False)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password[:MAX_LENGTH]) and (
            password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
