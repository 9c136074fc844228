"""What channels offer the notifier: pushing to a user outside a conversation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.messages import Reply


class Sender(Protocol):
    """Pushes replies to one user of one channel.

    `send` raises the errors of `bot.channels.errors`: `ChannelRetryAfter`, `ChannelBlocked`,
    `ChannelTemporaryError` or `ChannelPermanentError`. It does not retry by itself: the
    dispatcher owns the retry policy. When several replies are given and a later one fails, the
    earlier ones have been delivered.
    """

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        """Deliver `replies`, in order, to the user `channel_user_id`."""
        ...


@dataclass(frozen=True, slots=True)
class PushDetails:
    """What a push is about, for channels that must send a pre-approved template instead of
    free text (Zalo ZNS outside the chat window)."""

    user_id: int
    kind: str
    dossier_code: str | None
    params: Mapping[str, Any]
    dedup_key: str | None = None  # stable across retries: use it as an idempotency key


class TemplateSender(Protocol):
    """A channel that can reach a user outside the chat window with a template message."""

    async def send_template(self, channel_user_id: str, details: PushDetails) -> bool:
        """Send the template for `details`; False when no template or verified phone exists.

        Raises the errors of `bot.channels.errors` like `Sender.send`.
        """
        ...
