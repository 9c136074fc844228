"""Logging set-up, with a last line of defence against personal data in log lines.

Two layers keep phone numbers, PINs, names and tokens out of the logs (design §6):

1. Libraries that log what passes through them — request and response bodies, SQL
   parameters — are held at WARNING or above whatever `MOTCUA_LOG_LEVEL` says
   (`QUIET_LIBRARIES`): at DEBUG python-telegram-bot prints every update and every message
   it sends (typed PINs, applicants' names), and SQLAlchemy prints every statement's
   parameters (phone numbers, Zalo tokens). Our own DEBUG lines carry ids and counts only.
2. `RedactingFilter`, on every handler, masks what still slips through — in the message, in
   the exception text and traceback (a database error quotes its SQL parameters) and in the
   stack — whatever formatter (plain text or JSON) prints the record afterwards.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

# Vietnamese phone numbers (+84 / 84 / 0 then 9 digits).
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)")
# Telegram bot tokens, in a Bot API URL or alone.
_BOT_TOKEN = re.compile(r"(?:(?<=/bot)|(?<!\w))\d{5,}:[A-Za-z0-9_-]{30,}")
# `name=value`, `"name": "value"`, `name: value` for secrets: tokens (Zalo's access and refresh
# tokens travel as `access_token` headers and JSON), secret keys, PINs, passwords.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (\b(?:access_token|refresh_token|secret_key|secret|token|pin|password|code_verifier)\b
     ["']?\s*[:=]\s*["']?)
    ([^"'\s,&;})\]]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")

# Loggers that echo payloads at INFO or DEBUG; WARNING keeps their errors.
QUIET_LIBRARIES = (
    "httpx",
    "httpcore",
    "hpack",
    "telegram",
    "apscheduler",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "uvicorn.access",
    "asyncio",
)


def redact(text: str) -> str:
    """`text` with phone numbers, bot tokens and secret-looking fields masked."""
    text = _BOT_TOKEN.sub("<token>", text)
    text = _SECRET_FIELD.sub(r"\1<hidden>", text)
    text = _BEARER.sub(r"\1<hidden>", text)
    return _PHONE.sub("<phone>", text)


class RedactingFilter(logging.Filter):
    """Masks phone numbers, tokens and secrets that reach a log record by mistake.

    The message is rewritten; an exception is rendered once here, masked, into
    ``record.exc_text`` and ``record.exc_info`` is cleared, so that no formatter can render
    the unmasked original again (formatters print ``exc_text`` when it is set). The same for
    ``record.stack_info``.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with the sensitive parts masked; never drops it."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
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
    for noisy in QUIET_LIBRARIES:
        logger = logging.getLogger(noisy)
        logger.setLevel(max(logging.WARNING, root.level))
        # Send them through our handler (and its filter), not handlers of their own.
        logger.handlers.clear()
        logger.propagate = True
