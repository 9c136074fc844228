"""``motcua receipt-link``: the deep link printed and its QR code written."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bot.channels.telegram import receipt
from bot.deeplink import read_payload
from bot.settings import load_settings
from tests.support.fake_telegram import FakeTelegram

SECRET = "receipt-secret-for-tests"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="motcua")
    receipt.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["receipt-link", *argv])


def _payload(link: str) -> str:
    parsed = urlparse(link)
    assert parsed.scheme == "https"
    assert parsed.netloc == "t.me"
    return parse_qs(parsed.query)["start"][0]


async def test_prints_the_link_and_writes_the_qr_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "qr.png"
    args = _args(" 000.00.53.h48-220921-0099 ", "--out", str(out), "--bot-username", "motcua_bot")
    settings = load_settings(deep_link_secret=SECRET, data_dir=tmp_path)

    assert await args.run(args, settings) == 0

    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/motcua_bot?start=")
    assert read_payload(_payload(link), SECRET) == "000.00.53.H48-220921-0099"
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_asks_the_bot_api_for_the_username(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake: FakeTelegram
) -> None:
    out = tmp_path / "qr.png"
    args = _args("000.00.53.H48-220921-0099", "--out", str(out))
    settings = load_settings(
        deep_link_secret=SECRET,
        telegram_token=fake.token,
        telegram_api_url=fake.api_url,
        data_dir=tmp_path,
    )

    assert await receipt.run(args, settings) == 0

    link = capsys.readouterr().out.strip()
    assert link.startswith(f"https://t.me/{fake.bot_username}?start=")
    assert fake.calls_of("getMe")


async def test_refuses_a_bad_code_or_a_missing_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_secret = load_settings(deep_link_secret=SECRET, data_dir=tmp_path)
    without = load_settings(deep_link_secret=None, data_dir=tmp_path)
    out = str(tmp_path / "x.png")

    assert (
        await receipt.run(_args("not-a-code", "--out", out, "--bot-username", "b"), with_secret)
        == 2
    )
    good = _args("000.00.53.H48-220921-0099", "--out", out, "--bot-username", "b")
    assert await receipt.run(good, without) == 2
    assert "DEEP_LINK_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
