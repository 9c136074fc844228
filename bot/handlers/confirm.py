"""Fresh, user-bound confirmation tokens on destructive buttons (erase my data, stop notices).

A button payload is only a request anyone can forge or replay. A destructive one therefore
carries a token: ``<action>:<argument>~<issued>~<mac>``, where `issued` is the time it was
shown (seconds, base 36) and `mac` an HMAC-SHA-256 under the server secret over the action,
the argument, the chat account, our user row (its id and creation time) and `issued`.

- forged: the MAC does not match;
- someone else's: the account and user row differ;
- replayed after ``/forget``: the user row is a new one;
- stale: older than `CoreConfig.confirm_ttl_seconds`.

Such a press does nothing destructive; the handler answers politely (and asks again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bot import payloads
from bot.handlers.context import Context
from bot.payloads import Action

SEPARATOR = "~"
MAC_CHARS = 12  # 72 bits: only ever tried online, one button press at a time
CLOCK_SKEW_SECONDS = 60  # a token "from the future" by less is still accepted (other process)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def _mac(ctx: Context, action: Action, argument: str, issued: str) -> str:
    user = ctx.user
    created = round(user.created_at.timestamp() * 1000)
    message = "|".join(
        (
            "confirm",
            action.value,
            argument,
            ctx.incoming.channel,
            ctx.incoming.user_id,
            str(user.id),
            str(created),
            issued,
        )
    )
    digest = hmac.digest(ctx.config.server_secret.encode(), message.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def signed(ctx: Context, action: Action, argument: str = "") -> str:
    """The payload of a destructive button for this user, valid for a while."""
    issued = _base36(int(ctx.now.timestamp()))
    token = SEPARATOR.join((argument, issued, _mac(ctx, action, argument, issued)))
    return payloads.make(action, token)


def unsigned_argument(raw: str) -> str:
    """The argument of a payload without its token (to ask again about the same thing)."""
    return raw.split(SEPARATOR, 1)[0]


def confirmed(ctx: Context, action: Action, raw: str) -> str | None:
    """The argument of a pressed destructive button if its token is good, else None."""
    parts = raw.rsplit(SEPARATOR, 2)
    if len(parts) != 3:
        return None
    argument, issued, mac = parts
    if not hmac.compare_digest(mac.encode(), _mac(ctx, action, argument, issued).encode()):
        return None
    try:
        age = ctx.now.timestamp() - int(issued, 36)
    except ValueError:
        return None
    if age < -CLOCK_SKEW_SECONDS or age > ctx.config.confirm_ttl_seconds:
        return None
    return argument
