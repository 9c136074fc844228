"""The chat's limits: the buckets the handlers reserve, and how long they last (design §6).

Every limit is a `bot.ports.Bucket` reserved before the work it limits (a case API call) and
given back only when that work succeeded (`RateLimitRepository`). A key is a `LimitKind` and a
keyed hash (HMAC-SHA-256 under the server secret) of what is limited, built by
`bot.domain.limits.limit_key`:

- a chat account — the channel and the platform's user id, never our user row, so erasing
  one's data (``/forget``) does not reset one's limits; the rows expire on their own;
- a dossier code, for the failed proofs of one dossier across all accounts.

Without the server secret the hashes cannot be linked back to an account or a dossier.
"""

from __future__ import annotations

import functools
import math

from bot.domain.limits import LimitKind, limit_key
from bot.handlers.context import Context
from bot.ports import Bucket

# How long a growing back-off is remembered once its bucket is full again: a stranger who
# waits out one pause does not get a fresh burst of guesses.
BACKOFF_MEMORY_SECONDS = 24 * 3600


def account_subject(ctx: Context) -> str:
    """The chat account a message came from: channel and platform user id."""
    return f"{ctx.incoming.channel}:{ctx.incoming.user_id}"


def lookup_buckets(ctx: Context) -> list[Bucket]:
    """The per-account lookup limits, so sequential codes can't be walked."""
    config = ctx.config
    return list(
        _lookup_buckets(
            config.server_secret,
            account_subject(ctx),
            config.lookup_limit_per_minute,
            config.lookup_limit_per_hour,
        )
    )


@functools.lru_cache(maxsize=4096)
def _lookup_buckets(
    secret: str, account: str, per_minute: int, per_hour: int
) -> tuple[Bucket, Bucket]:
    # Every lookup needs them: the accounts chatting now keep theirs (two HMACs) at hand.
    return (
        Bucket(limit_key(LimitKind.LOOKUP_MINUTE, secret, account), per_minute, 60),
        Bucket(limit_key(LimitKind.LOOKUP_HOUR, secret, account), per_hour, 3600),
    )


def _backoff(ctx: Context, key: str, capacity: int) -> Bucket:
    config = ctx.config
    return Bucket(
        key,
        capacity,
        config.pin_lockout_minutes * 60,
        max_backoff_seconds=config.pin_backoff_max_minutes * 60,
        rest_seconds=BACKOFF_MEMORY_SECONDS,
    )


def pin_account_bucket(ctx: Context) -> Bucket:
    """Receipt PINs tried by this chat account (whatever the dossier)."""
    key = limit_key(LimitKind.PIN_ACCOUNT, ctx.config.server_secret, account_subject(ctx))
    return _backoff(ctx, key, ctx.config.pin_attempts_per_user)


def pin_dossier_bucket(ctx: Context, code: str) -> Bucket:
    """Receipt PINs tried on one dossier by anyone: the guard of a short PIN. Only PINs count
    here, so strangers' guesses never block the owner's phone number or receipt link."""
    key = limit_key(LimitKind.PIN_DOSSIER, ctx.config.server_secret, code)
    return _backoff(ctx, key, ctx.config.pin_attempts_per_dossier)


def phone_account_bucket(ctx: Context) -> Bucket:
    """Phone numbers shared by this chat account. There is no per-dossier phone limit: the
    platform shares only the account's own number, which cannot be guessed, and a
    per-dossier limit would let strangers lock the owner out."""
    key = limit_key(LimitKind.PHONE_ACCOUNT, ctx.config.server_secret, account_subject(ctx))
    return _backoff(ctx, key, ctx.config.pin_attempts_per_user)


def erasure_note(ctx: Context) -> str:
    """What the privacy notice and /forget say about limits (design §6)."""
    return ctx._(
        "To prevent abuse, the limits on lookups and PIN attempts are not erased: they are "
        "kept under a coded form of your chat account, apart from your data, and expire on "
        "their own about a day after the last attempt."
    )


def minutes_text(seconds: float) -> int:
    """Whole minutes to tell a citizen (rounded up, at least 1)."""
    return max(1, math.ceil(seconds / 60))
