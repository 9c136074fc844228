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

Two formats (``MOTCUA_LOG_FORMAT``): ``text``, one readable line a record with the context
as a ``[channel=… user_id=…]`` suffix, and ``json``, one JSON object a line with ``time``,
``level``, ``logger``, ``message``, the context fields of `bot.logcontext` (``channel``,
``user_id``, ``dossier``, ``outbox_id``) and ``exception``. uvicorn's loggers have no
handlers of their own (`bot.web.serve` starts it without a logging config): their records
reach the same handler, filter and formatter.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.logcontext import FIELDS, ContextFilter

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


def _context_of(record: logging.LogRecord) -> dict[str, str | int]:
    context = getattr(record, "motcua_context", None)
    return context if isinstance(context, dict) else {}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [channel=… user_id=…]`` (a traceback on the next lines)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """One record as text."""
        line = super().format(record)
        context = _context_of(record)
        if context:
            suffix = " ".join(f"{key}={context[key]}" for key in FIELDS if key in context)
            head, sep, rest = line.partition("\n")
            line = f"{head} [{suffix}]{sep}{rest}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        """One record as a JSON line."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context_of(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``MOTCUA_LOG_FORMAT`` (``text`` or ``json``)."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return TextFormatter()
    raise ValueError(f"unknown log format {fmt!r}")


def configure_logging(level: str = "INFO", *, file: Path | None = None, fmt: str = "text") -> None:
    """Log to stderr (or `file`), one line a record, with redaction on every handler."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(ContextFilter())
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
    # uvicorn's own loggers: through the root handler above, never handlers of their own.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
