"""Scheduled housekeeping: delete what no one will read again, so the database stops growing.

`housekeep` runs each purge in its own short transaction (on SQLite a transaction holds the
write lock, so one long one would keep citizens waiting) and returns how many rows each
removed:

- ``rate_limits``: limits at rest, whose back-off is forgotten (they limit nothing any more);
- ``conversations``: conversation states (e.g. a pending PIN) that have expired;
- ``survey_sessions``: survey sessions past their lifetime (the answers given stay);
- ``outbox``: pushes sent, dead, cancelled or expired more than `outbox_retention` ago
  (pushes still waiting or being sent are never deleted);
- ``unanswered``: messages the bot could not answer, kept 30 days for the office
  (`bot.handlers.feedback.UNANSWERED_RETENTION`);
- ``staff_sessions``: officials' sign-ins past their lifetime (they no longer open a page;
  live ones stay).

``motcua run`` calls it every hour (`run_periodically`); ``motcua housekeep`` runs it once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import timedelta
from typing import Any

from bot.handlers.feedback import UNANSWERED_RETENTION
from bot.ports import Clock, UnitOfWorkFactory
from bot.settings import Settings

log = logging.getLogger(__name__)

OUTBOX_RETENTION = timedelta(days=30)
INTERVAL = timedelta(hours=1)

# The kinds in the order they are purged and printed.
KINDS = (
    "rate_limits",
    "conversations",
    "survey_sessions",
    "outbox",
    "unanswered",
    "staff_sessions",
)


async def housekeep(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    *,
    outbox_retention: timedelta = OUTBOX_RETENTION,
) -> dict[str, int]:
    """Run every purge once, each in a transaction of its own; rows removed per kind."""
    counts: dict[str, int] = {}
    async with uow_factory() as uow:
        counts["rate_limits"] = await uow.rate_limits.purge(clock.now())
        await uow.commit()
    async with uow_factory() as uow:
        counts["conversations"] = await uow.conversations.purge_expired(clock.now())
        await uow.commit()
    async with uow_factory() as uow:
        counts["survey_sessions"] = await uow.surveys.close_expired(clock.now())
        await uow.commit()
    async with uow_factory() as uow:
        counts["outbox"] = await uow.outbox.purge_finished(clock.now() - outbox_retention)
        await uow.commit()
    async with uow_factory() as uow:
        counts["unanswered"] = await uow.feedback.purge_unanswered(
            clock.now() - UNANSWERED_RETENTION
        )
        await uow.commit()
    async with uow_factory() as uow:
        counts["staff_sessions"] = await uow.staff.purge_sessions(now=clock.now())
        await uow.commit()
    return counts


def format_counts(counts: dict[str, int]) -> str:
    """The counts on one line, e.g. ``housekeeping removed: rate_limits=3 conversations=0 …``."""
    shown = " ".join(f"{kind}={counts.get(kind, 0)}" for kind in KINDS)
    return f"housekeeping removed: {shown}"


async def run_periodically(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    *,
    every: timedelta = INTERVAL,
) -> None:
    """Housekeep now and then every `every`, logging the counts, until cancelled.

    A failed round is logged and the next one runs as planned.
    """
    while True:
        try:
            counts = await housekeep(uow_factory, clock)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("housekeeping failed; trying again in %s", every)
        else:
            log.info(format_counts(counts))
        await asyncio.sleep(every.total_seconds())


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``housekeep`` to the ``motcua`` subcommands (`subparsers` from add_subparsers)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "housekeep",
        help="delete expired state and old finished pushes once (motcua run does it hourly)",
        description=(
            "Delete limits at rest, expired conversation states, survey sessions and "
            "officials' sign-ins, unanswered messages older than 30 days, and pushes "
            "finished more than --outbox-days days ago."
        ),
    )
    parser.add_argument(
        "--outbox-days",
        type=_positive_int,
        default=OUTBOX_RETENTION.days,
        help="keep finished pushes this many days (default %(default)s)",
    )
    parser.set_defaults(run=run)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number of days: {text!r}")
    return value


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua housekeep``: one round, its counts printed on one line."""
    from bot.ports import SystemClock
    from bot.storage.readiness import migrated_engine
    from bot.storage.uow import SqlUnitOfWorkFactory

    async with migrated_engine(settings.database_url) as engine:
        counts = await housekeep(
            SqlUnitOfWorkFactory(engine),
            SystemClock(),
            outbox_retention=timedelta(days=args.outbox_days),
        )
    print(format_counts(counts))
    return 0
