"""``motcua quarantine``: the dossier changes set aside because they broke the case API
contract or could not be stored (issue 12), so that an operator can see them and take them up
with the case system's people.

Open items are listed most recent first with their dossier code, source, how often they were
seen and why; ``--all`` adds those a later valid version superseded; ``--show ID`` prints one
item's stored JSON (it may hold an applicant's name: it is printed only on this request, and
never logged); ``--dismiss ID`` closes an open item by hand.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.ports import QuarantinedItem
from bot.settings import Settings

DEFAULT_LIMIT = 100


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``quarantine`` to the ``motcua`` subcommands (`subparsers` from add_subparsers)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "quarantine",
        help="list dossier changes set aside (off the case API contract or not storable)",
        description="List the dossier changes set aside by the watcher, most recent first.",
    )
    parser.add_argument(
        "--all", action="store_true", help="also list items superseded by a later valid version"
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"at most this many (default {DEFAULT_LIMIT})",
    )
    parser.add_argument("--show", type=int, metavar="ID", help="print one item's stored JSON")
    parser.add_argument(
        "--dismiss",
        type=int,
        metavar="ID",
        help="close one open item by hand (e.g. one without a readable dossier code, once dealt "
        "with); a later valid version of its dossier closes an item by itself",
    )
    parser.set_defaults(run=run)
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua quarantine``; the exit status."""
    from bot.storage.readiness import migrated_engine
    from bot.storage.uow import SqlUnitOfWorkFactory

    if args.limit < 1:
        print("motcua quarantine: --limit must be at least 1")
        return 2
    async with (
        migrated_engine(settings.database_url) as engine,
        SqlUnitOfWorkFactory(engine)() as uow,
    ):
        if args.dismiss is not None:
            dismissed = await uow.quarantine.dismiss(args.dismiss, now=datetime.now(UTC))
            await uow.commit()
            if not dismissed:
                print(f"motcua quarantine: no open item {args.dismiss}")
                return 1
            print(f"item {args.dismiss} dismissed")
            return 0
        if args.show is not None:
            item = await uow.quarantine.get(args.show)
            items = [] if item is None else [item]
            total = len(items)
        else:
            items = await uow.quarantine.list(include_resolved=args.all, limit=args.limit)
            total = await uow.quarantine.open_count()
    tz = ZoneInfo(settings.timezone)
    if args.show is not None:
        if not items:
            print(f"motcua quarantine: no item {args.show}")
            return 1
        print(format_item(items[0], tz))
        return 0
    print(format_list(items, total, tz))
    return 0


def _local(item_time: Any, tz: ZoneInfo) -> str:
    return str(item_time.astimezone(tz).strftime("%Y-%m-%d %H:%M"))


def format_list(items: list[QuarantinedItem], open_count: int, tz: ZoneInfo) -> str:
    """The items as one block per item, after a line with the open count."""
    noun = "item" if open_count == 1 else "items"
    lines = [f"{open_count} {noun} set aside"]
    for item in items:
        state = "open" if item.resolved_at is None else f"superseded {_local(item.resolved_at, tz)}"
        lines.append(
            f"#{item.id}  {item.dossier_code or '(no readable code)'}  {item.source}  "
            f"seen {item.times_seen}× (first {_local(item.first_seen_at, tz)}, "
            f"last {_local(item.last_seen_at, tz)})  {state}"
        )
        lines.append(f"    {item.reason}")
    return "\n".join(lines)


def format_item(item: QuarantinedItem, tz: ZoneInfo) -> str:
    """One item in full, with its stored JSON."""
    return "\n".join(
        [
            format_list([item], 1 if item.resolved_at is None else 0, tz).split("\n", 1)[1],
            *([f"    event id: {item.event_id}"] if item.event_id else []),
            item.payload,
        ]
    )
