"""``motcua outbox``: how many pushes are queued, retrying, held, sending, sent or dead, and
how many dossier changes are set aside in the quarantine (`motcua quarantine` lists them);
and putting dead pushes back in the queue."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.ports import OutboxState
from bot.settings import Settings

# The order operators read them in: waiting, in progress, finished.
SHOWN_STATES = (
    OutboxState.QUEUED,
    OutboxState.RETRYING,
    OutboxState.HELD,
    OutboxState.SENDING,
    OutboxState.SENT,
    OutboxState.DEAD,
    OutboxState.CANCELLED,
    OutboxState.EXPIRED,
)
_WIDTH = len("quarantined")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``outbox`` to the ``motcua`` subcommands (`subparsers` from add_subparsers)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "outbox",
        help="show the push queue by state; requeue dead pushes",
        description="Show how many pushes are in each state of the outbox.",
    )
    parser.add_argument(
        "--requeue-dead",
        action="store_true",
        help="put every dead push back in the queue (with a fresh attempt count) first",
    )
    parser.add_argument("--kind", help="with --requeue-dead: only pushes of this kind")
    parser.set_defaults(run=run)
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua outbox``; the exit status."""
    from bot.storage.readiness import migrated_engine
    from bot.storage.uow import SqlUnitOfWorkFactory

    if args.kind is not None and not args.requeue_dead:
        print("motcua outbox: --kind only goes with --requeue-dead")
        return 2
    async with (
        migrated_engine(settings.database_url) as engine,
        SqlUnitOfWorkFactory(engine)() as uow,
    ):
        if args.requeue_dead:
            requeued = await uow.outbox.requeue_dead(now=datetime.now(UTC), kind=args.kind)
            print(f"requeued {requeued} dead push{'es' if requeued != 1 else ''}")
        counts = await uow.outbox.counts()
        quarantined = await uow.quarantine.open_count()
        await uow.commit()
    print(format_counts(counts))
    print(format_quarantined(quarantined))
    return 0


def format_counts(counts: Mapping[OutboxState, int]) -> str:
    """The counts as an aligned two-column table."""
    lines = [f"{state.value:<{_WIDTH}}  {counts.get(state, 0):>9,}" for state in SHOWN_STATES]
    return "\n".join(lines)


def format_quarantined(count: int) -> str:
    """The line about dossier changes set aside, aligned with the counts."""
    line = f"{'quarantined':<{_WIDTH}}  {count:>9,}"
    return line + ("  (dossier changes set aside: motcua quarantine)" if count else "")
