"""``motcua feedback`` and ``motcua unanswered``: what citizens told the office, and what the
bot could not answer — newest first, for one agency or all, as a table, CSV or JSON.

    motcua feedback [--agency CODE] [--since 2026-11-01|7d] [--status open] [--format csv]
    motcua unanswered [--agency CODE] [--since 24h] [--format json]

Texts are shown as stored: their digits were masked when they were kept.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.settings import Settings

FORMATS = ("table", "csv", "json")
TABLE_TEXT_WIDTH = 60
_AGO = re.compile(r"^(\d{1,5})([dh])$")

FEEDBACK_COLUMNS = (
    "id",
    "created_at",
    "channel",
    "agency_code",
    "procedure_code",
    "kind",
    "status",
    "language",
    "text",
)
UNANSWERED_COLUMNS = ("id", "created_at", "channel", "language", "agency_code", "text")


def parse_since(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """``7d`` / ``24h`` ago, or a local date ``YYYY-MM-DD`` (its midnight); ValueError else."""
    ago = _AGO.match(text.strip())
    if ago is not None:
        amount, unit = int(ago.group(1)), ago.group(2)
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"--since: not a date (YYYY-MM-DD) nor 7d / 24h: {text!r}") from None
    return day.replace(tzinfo=tz).astimezone(UTC)


def add_parser(subparsers: Any) -> None:
    """Add ``feedback`` and ``unanswered`` to the ``motcua`` subcommands."""
    feedback = subparsers.add_parser(
        "feedback",
        help="list citizens' feedback and complaints, newest first",
        description="List the feedback and complaints citizens sent in the chat, newest first.",
    )
    feedback.add_argument(
        "--status", choices=("open", "answered", "closed"), help="only items in this state"
    )
    _common_options(feedback)
    feedback.set_defaults(run=run_feedback)
    unanswered = subparsers.add_parser(
        "unanswered",
        help="list messages the bot could not answer (kept 30 days), newest first",
        description="List the messages the bot did not understand (kept 30 days), newest first.",
    )
    _common_options(unanswered)
    unanswered.set_defaults(run=run_unanswered)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agency", help="only this agency's (its code, e.g. 000.00.15.H12)")
    parser.add_argument("--since", help="only since a local date (YYYY-MM-DD) or 7d / 24h ago")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--limit", type=int, default=500, help="at most this many (500)")


async def run_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua feedback``."""
    return await _run(args, settings, "feedback")


async def run_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua unanswered``."""
    return await _run(args, settings, "unanswered")


async def _run(args: argparse.Namespace, settings: Settings, what: str) -> int:
    from bot.storage.engine import create_engine
    from bot.storage.uow import SqlUnitOfWorkFactory

    now = datetime.now(UTC)
    try:
        since = None if args.since is None else parse_since(args.since, now=now, tz=settings.tz)
    except ValueError as exc:
        print(f"motcua {what}: {exc}")
        return 2
    if args.limit <= 0:
        print(f"motcua {what}: --limit must be positive")
        return 2
    engine = create_engine(settings.database_url)
    try:
        columns: Sequence[str]
        async with SqlUnitOfWorkFactory(engine)() as uow:
            if what == "feedback":
                items: Sequence[Any] = await uow.feedback.list_feedback(
                    agency_code=args.agency, since=since, status=args.status, limit=args.limit
                )
                columns = FEEDBACK_COLUMNS
            else:
                items = await uow.feedback.list_unanswered(
                    agency_code=args.agency, since=since, limit=args.limit
                )
                columns = UNANSWERED_COLUMNS
    finally:
        await engine.dispose()
    rows = [_row(asdict(item), columns, settings.tz) for item in items]
    print(render(rows, columns, args.format), end="")
    return 0


def _row(item: dict[str, Any], columns: Sequence[str], tz: ZoneInfo) -> dict[str, Any]:
    row = {column: item[column] for column in columns}
    row["created_at"] = item["created_at"].astimezone(tz).isoformat(timespec="seconds")
    return row


def render(rows: list[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """The rows as an aligned table, CSV or JSON (all columns, full texts except the table)."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if not rows:
        return "(nothing)\n"
    cells = [[_cell(row[c], c) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    return "\n".join(lines) + "\n"


def _cell(value: Any, column: str) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if column == "text" and len(text) > TABLE_TEXT_WIDTH:
        text = text[: TABLE_TEXT_WIDTH - 1] + "…"
    return text
