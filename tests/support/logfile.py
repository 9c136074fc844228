"""A log file for tests of what reaches the log: `configure_logging` writes there, and the
logging set-up is restored afterwards."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from bot.logs import QUIET_LIBRARIES


@contextlib.contextmanager
def log_file_in(directory: Path) -> Iterator[Path]:
    """Where `configure_logging` may write for one test; the root's handlers and level and
    the quiet libraries' levels are put back after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    path = directory / "motcua.log"
    try:
        yield path
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, old in libraries.items():
            logging.getLogger(name).setLevel(old)


def flushed(path: Path) -> str:
    """The log written so far."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def without_times(written: str) -> str:
    """The log without its lines' timestamps, whose milliseconds may read ",345" (1 in 1000)."""
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", written, flags=re.MULTILINE)
