"""``motcua receipt-link CODE``: the receipt's deep link and its QR code, for the counter.

The link is ``https://t.me/<bot>?start=<payload>`` with a payload signed by
``MOTCUA_DEEP_LINK_SECRET`` (see `bot.deeplink`). The bot's username comes from
``--bot-username``, else ``MOTCUA_TELEGRAM_BOT_USERNAME``, else the Bot API's getMe with
``MOTCUA_TELEGRAM_TOKEN`` (at ``MOTCUA_TELEGRAM_API_URL``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import segno
from telegram import Bot
from telegram.error import TelegramError

from bot.deeplink import make_payload, telegram_link
from bot.domain.codes import InvalidCode, parse_code
from bot.settings import Settings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``receipt-link`` to the ``motcua`` command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "receipt-link",
        help="print a dossier's Telegram deep link and write its QR code (PNG)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("code", metavar="CODE", help="the dossier code on the receipt")
    parser.add_argument(
        "--out",
        metavar="FILE.png",
        type=Path,
        help="where to write the QR code (default: receipt-<CODE>.png)",
    )
    parser.add_argument("--bot-username", metavar="NAME", help="the bot's Telegram username")
    parser.add_argument("--scale", type=int, default=8, help="pixels per QR module (default: 8)")
    parser.set_defaults(run=run)
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the link and write the QR code; exit status 2 on a bad code or setting."""
    try:
        code = str(parse_code(args.code))
    except InvalidCode:
        print(f"motcua: not a dossier code: {args.code!r}", file=sys.stderr)
        return 2
    if settings.deep_link_secret is None or not settings.deep_link_secret.get_secret_value():
        print("motcua: MOTCUA_DEEP_LINK_SECRET is not set", file=sys.stderr)
        return 2
    username = args.bot_username or settings.telegram_bot_username
    if not username:
        try:
            username = await bot_username_from_api(settings)
        except (TelegramError, ValueError) as exc:
            print(f"motcua: cannot learn the bot's username: {exc}", file=sys.stderr)
            return 2
    link = telegram_link(username, make_payload(code, settings.deep_link_secret.get_secret_value()))
    out: Path = args.out or Path(f"receipt-{code}.png")
    write_qr(link, out, scale=args.scale)
    print(link)
    print(f"QR code written to {out}", file=sys.stderr)
    return 0


async def bot_username_from_api(settings: Settings) -> str:
    """The bot's username, from getMe; ValueError without a token."""
    if settings.telegram_token is None:
        raise ValueError(
            "set --bot-username, MOTCUA_TELEGRAM_BOT_USERNAME or MOTCUA_TELEGRAM_TOKEN"
        )
    api_url = settings.telegram_api_url.rstrip("/")
    bot = Bot(
        settings.telegram_token.get_secret_value(),
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
    )
    async with bot:
        return bot.username


def write_qr(link: str, out: Path, *, scale: int = 8) -> None:
    """Write `link` as a QR code PNG (error correction M, quiet zone of 4 modules)."""
    qr = segno.make(link, error="m", micro=False)
    qr.save(str(out), kind="png", scale=scale, border=4)
