"""The ``motcua`` command line (design §8)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot import aio
from bot.errors import OperatorError
from bot.settings import Settings, SettingsError, load_settings
from bot.version import version

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    import bot.caseapi.simulator.cli as simulator_cli
    from bot import demo, feedback_cli, housekeeping, runner
    from bot.channels.telegram import receipt
    from bot.channels.zalo import cli as zalo_cli
    from bot.notify import cli as outbox_cli
    from bot.notify import quarantine_cli
    from bot.office import cli as staff_cli
    from bot.ops import probe
    from surveys import cli as index_cli

    parser = argparse.ArgumentParser(
        prog="motcua",
        description="Chatbot for Vietnam's one-stop-shop offices (Bộ phận Một cửa).",
    )
    parser.add_argument("--version", action="version", version=f"motcua {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo.add_parser(commands)
    runner.add_parser(commands)
    index_cli.add_parser(commands)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply the database migrations")
    upgrade.set_defaults(run=_db_upgrade)

    simulator_cli.add_parser(commands)
    outbox_cli.add_parser(commands)
    quarantine_cli.add_parser(commands)
    receipt.add_parser(commands)
    housekeeping.add_parser(commands)
    zalo_cli.add_parser(commands)
    probe.add_parser(commands)
    staff_cli.add_parser(commands)
    feedback_cli.add_parser(commands)
    return parser


async def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.migrate import upgrade
    from bot.storage.readiness import display_url

    await upgrade(settings.database_url)
    print(f"database is up to date: {display_url(settings.database_url)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``motcua`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"motcua: bad setting: {exc}", file=sys.stderr)
        return 2
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        result = run(args, settings)
        if asyncio.iscoroutine(result):
            return int(aio.run(result))
        return int(result)
    except (KeyboardInterrupt, EOFError):
        # Ctrl-C, or Ctrl-D at a prompt: end cleanly, on a fresh line.
        print(file=sys.stderr)
        return 130
    except OperatorError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
