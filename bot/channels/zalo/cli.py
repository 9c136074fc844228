"""``motcua zalo install-tokens``: store a new OA token pair issued in Zalo's console.

Zalo's refresh token is single-use and dies after three months unused; once the database
holds a pair, the environment variables only seed an empty table (see docs/zalo.md). When
the stored refresh token is refused, an operator issues a new pair in the API Explorer and
installs it with this command. The tokens are read from MOTCUA_ZALO_ACCESS_TOKEN /
MOTCUA_ZALO_REFRESH_TOKEN, or asked for on the terminal, never from the command line (where
the process list and the shell history would keep them).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Coroutine
from typing import Any

from pydantic import SecretStr

from bot.settings import Settings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``zalo`` (with ``install-tokens``) to the ``motcua`` subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "zalo", help="Zalo Official Account maintenance"
    )
    actions = parser.add_subparsers(dest="zalo_command", required=True, metavar="ACTION")
    install = actions.add_parser(
        "install-tokens",
        help="store a new OA access/refresh token pair in place of the current one",
        description=(
            "Store an OA access token and refresh token issued in Zalo's API Explorer, "
            "replacing the pair in the database. They are read from "
            "MOTCUA_ZALO_ACCESS_TOKEN and MOTCUA_ZALO_REFRESH_TOKEN, or asked for."
        ),
    )
    install.set_defaults(run=install_tokens)
    return parser


def install_tokens(_args: argparse.Namespace, settings: Settings) -> int | Coroutine[Any, Any, int]:
    """Execute ``motcua zalo install-tokens``: ask for the tokens (before any event loop
    runs, so Ctrl-C and Ctrl-D at the prompt end the command at once), then store them."""
    access = _token(settings.zalo_access_token, "OA access token")
    refresh = _token(settings.zalo_refresh_token, "OA refresh token")
    if not access or not refresh:
        print(
            "motcua: no token given: set MOTCUA_ZALO_ACCESS_TOKEN and "
            "MOTCUA_ZALO_REFRESH_TOKEN, or type them when asked",
            file=sys.stderr,
        )
        return 2
    return _store(settings, access, refresh)


async def _store(settings: Settings, access: str, refresh: str) -> int:
    from bot.channels.zalo.store import install_pair
    from bot.ports import SystemClock
    from bot.storage.engine import create_engine
    from bot.storage.migrate import upgrade
    from bot.storage.uow import SqlUnitOfWorkFactory

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        clock = SystemClock()
        rotation = await install_pair(SqlUnitOfWorkFactory(engine, clock), clock, access, refresh)
    finally:
        await engine.dispose()
    print(
        f"Zalo tokens installed (rotation {rotation}); running bots take them at their next "
        "refresh, or as soon as Zalo refuses the old token"
    )
    return 0


def _token(configured: SecretStr | None, label: str) -> str:
    """The token from the settings, else typed on the terminal (not echoed)."""
    if configured is not None:
        return configured.get_secret_value().strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return getpass.getpass(f"{label}: ").strip()
