"""``motcua index``: the satisfaction index and timeliness, as a table, CSV, JSON and a chart."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import OperatorError
from bot.settings import Settings
from bot.storage.readiness import migrated_engine
from bot.storage.uow import SqlUnitOfWorkFactory
from surveys.periods import Period, current_year, parse_period
from surveys.report import render_chart, render_csv, render_json, render_table
from surveys.scoring import GROUPINGS, IndexReport, compute_index

FORMATS = ("table", "csv", "json")


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_parser(subparsers: Any) -> None:
    """Add ``motcua index`` to `subparsers`; the namespace's ``run(args, settings)`` runs it."""
    parser = subparsers.add_parser(
        "index",
        help="satisfaction index and timeliness per agency, procedure or field",
        description=(
            "Score the survey answers (SIPAS-style satisfaction index, design §7) and count "
            "dossiers returned early, on time and late, for one period."
        ),
    )
    parser.add_argument("--by", choices=GROUPINGS, default="agency", help="grouping (agency)")
    parser.add_argument(
        "--period",
        type=_period,
        help="2026-10 (month), 2026-Q3 (quarter) or 2026 (year); default: the current year",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output (table)")
    parser.add_argument("--chart", type=Path, metavar="FILE.png", help="also draw the ranking")
    parser.add_argument(
        "--lang", choices=("vi", "en"), help="language of the table and chart (settings)"
    )
    parser.set_defaults(run=run_index)


async def build_report(settings: Settings, by: str, period: Period) -> IndexReport:
    """Compute the report from the configured database."""
    async with (
        migrated_engine(settings.database_url) as engine,
        SqlUnitOfWorkFactory(engine)() as uow,
    ):
        return await compute_index(uow.scores, by, period, tz=settings.tz)  # type: ignore[arg-type]


def require_charts() -> None:
    """Drawing the PNG needs matplotlib, which only the ``charts`` extra installs."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OperatorError(
            "--chart needs the charts extra: pip install 'motcua[charts]' (the rest of "
            "`motcua index` works without it)"
        ) from None


async def run_index(args: argparse.Namespace, settings: Settings) -> int:
    """Print the index in the chosen format, and draw the chart if asked."""
    if args.chart is not None:
        require_charts()
        if not args.chart.parent.is_dir():
            raise OperatorError(f"cannot write {args.chart}: no folder {args.chart.parent}")
    period = args.period or current_year(datetime.now(UTC), settings.tz)
    language = args.lang or settings.default_language
    report = await build_report(settings, args.by, period)
    if args.format == "csv":
        sys.stdout.write(render_csv(report))
    elif args.format == "json":
        sys.stdout.write(render_json(report))
    else:
        sys.stdout.write(render_table(report, language))
    if args.chart is not None:
        try:
            render_chart(report, args.chart, language)
        except OSError as error:
            raise OperatorError(f"cannot write {args.chart}: {error.strerror}") from None
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0
