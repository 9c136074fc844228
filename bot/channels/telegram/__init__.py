"""The Telegram channel adapter (python-telegram-bot), polling or webhook."""

from bot.channels.telegram.channel import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    RetryPolicy,
    TelegramChannel,
)

__all__ = ["SECRET_HEADER", "WEBHOOK_PATH", "RetryPolicy", "TelegramChannel"]
