"""Errors a channel raises when it cannot deliver a push (see `bot.channels.base.Sender`).

They are channel-neutral so the dispatcher can decide what to do without knowing the
platform: wait and retry, retry later with backoff, stop pushing to the user, or give up.
"""

from __future__ import annotations


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
