"""Logging set-up, with a last line of defence against personal data in log lines."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

# Vietnamese phone numbers (+84 / 84 / 0 then 9 digits) and Telegram bot tokens in URLs.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)")
_BOT_TOKEN = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


class RedactingFilter(logging.Filter):
    """Masks phone numbers and bot tokens that reach a log record by mistake."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with the sensitive parts masked."""
        message = record.getMessage()
        cleaned = _BOT_TOKEN.sub("/bot<token>", _PHONE.sub("<phone>", message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "INFO", *, file: Path | None = None) -> None:
    """Log to stderr (or `file`), one line a record, with redaction on every handler."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; Telegram's URLs carry the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
