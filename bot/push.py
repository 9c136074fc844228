"""The push port: what a channel offers the notifier to reach a user outside a conversation
(`Sender`, `TemplateSender`, `PushDetails`), and the errors a push raises.

The errors are channel-neutral so the dispatcher can decide what to do without knowing the
platform: wait and retry, retry later with backoff, stop pushing to the user, or give up.
Channels implement these; the dispatcher (`bot.notify.dispatcher`) uses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.messages import Reply


class Sender(Protocol):
    """Pushes replies to one user of one channel.

    `send` raises the errors below: `ChannelRetryAfter`, `ChannelBlocked`,
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

        Raises the errors below like `Sender.send`.
        """
        ...


class ChannelError(Exception):
    """Base of every error a channel's `send` raises."""


class ChannelRetryAfter(ChannelError):
    """The platform's flood control: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after


class ChannelBlocked(ChannelError):
    """The user blocked the bot, deleted their account or the chat does not exist."""


class ChannelTemporaryError(ChannelError):
    """Network trouble, a timeout or a 5xx from the platform: retry later with backoff."""


class ChannelPermanentError(ChannelError):
    """The platform refused the message itself (bad request): retrying will not help."""


class ChannelWindowClosed(ChannelError):
    """The platform only lets the bot write within a window after the user's last message
    (Zalo: 7 days, error -230) and the window is closed: hold the push until the user writes
    again, or send it by another route (ZNS) where one is configured."""
