"""MOTCUA_LOG_FORMAT: text and JSON lines, with the update's context and nothing sensitive."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logcontext
from bot.logs import configure_logging

PHONE = "0912345678"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_context_and_mask_phones_and_tokens(
    tmp_path: Path, restore_logging: None
) -> None:
    log_file = tmp_path / "json.log"
    configure_logging("DEBUG", file=log_file, fmt="json")
    log = logging.getLogger("bot.test")
    with logcontext.fresh(channel="zalo"):
        logcontext.bind(user_id=42, dossier="000.00.53.H48-220921-0099", outbox_id=7)
        log.info("citizen shared %s", PHONE)
        try:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage to {PHONE}")
        except RuntimeError:
            log.exception("send failed")
    log.warning("outside any message")
    logging.getLogger("uvicorn.error").warning("Started server process")
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = log_file.read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    assert [e["message"] for e in entries] == [
        "citizen shared <phone>",
        "send failed",
        "outside any message",
        "Started server process",
    ]
    first = entries[0]
    assert first["level"] == "INFO" and first["logger"] == "bot.test"
    assert (first["channel"], first["user_id"], first["outbox_id"]) == ("zalo", 42, 7)
    assert first["dossier"] == "000.00.53.H48-220921-0099"
    assert "RuntimeError" in entries[1]["exception"]
    assert "channel" not in entries[2]
    assert entries[3]["logger"] == "uvicorn.error"
    assert PHONE not in text and TOKEN not in text


def test_text_lines_show_the_context(tmp_path: Path, restore_logging: None) -> None:
    log_file = tmp_path / "text.log"
    configure_logging("INFO", file=log_file, fmt="text")
    with logcontext.fresh(channel="telegram", user_id=5):
        logging.getLogger("bot.test").info("answered")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert log_file.read_text().rstrip().endswith("bot.test: answered [channel=telegram user_id=5]")


def test_only_known_fields_can_be_bound() -> None:
    with pytest.raises(ValueError, match="phone"):
        logcontext.bind(phone=PHONE)
