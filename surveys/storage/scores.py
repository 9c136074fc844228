"""The satisfaction index's aggregations in SQL (`bot.ports.ScoreRepository`, ``uow.scores``).

One statement aggregates the answers in a single pass (the counts, the element and overall
indices, all in double precision, so SQLite and PostgreSQL agree) — by agency and over every
agency from the per-month totals the database keeps beside the answers (`survey_answer_totals`,
kept by triggers), so its cost does not grow with the number of answers; a second
counts responses; a third counts timeliness from `dossier_snapshots`. `surveys.scoring` turns
the figures into the report.

Local days use the zone's UTC offset at the start of the period (Vietnam has had no daylight
saving time since 1975), the same arithmetic on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer, String

from bot.storage.tables_watch import dossier_snapshots
from surveys.elements import RATING3_SATISFIED, SCALE5_SATISFIED
from surveys.model import ALL, ElementScore, GroupCount, Grouping, GroupTimeliness
from surveys.periods import Period
from surveys.storage.tables import survey_answer_totals, survey_answers, survey_responses


class SqlScoreRepository:
    """The index's figures over one connection (inside its transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def element_scores(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[ElementScore]:
        """Per group, kind and element: valid and satisfied answers and the index; with the
        group's overall index and mean 5-point score on every row of the group."""
        statement = _scores_statement(by, period, agencies)
        rows = (await self._connection.execute(statement)).all()
        return [
            ElementScore(
                group=row.g,
                kind=row.kind,
                element=row.element,
                valid=int(row.valid),
                satisfied=int(row.satisfied),
                index=float(row.idx),
                overall=None if row.overall is None else float(row.overall),
                mean=None if row.mean is None else float(row.mean),
            )
            for row in rows
        ]

    async def response_counts(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[GroupCount]:
        """Per group: its name and the responses filed in `period`."""
        key, name = _response_group(by)
        in_period = survey_responses.c.period_month.between(period.first_month, period.last_month)
        responses = (
            select(key.label("g"), func.max(name).label("name"), func.count().label("n"))
            .where(in_period)
            .group_by(*_group_by(by, key))
        )
        if agencies is not None:
            responses = responses.where(survey_responses.c.agency_code.in_(agencies))
        rows = (await self._connection.execute(responses)).all()
        return [GroupCount(row.g, row.name, int(row.n)) for row in rows]

    async def timeliness(
        self,
        by: Grouping,
        period: Period,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> list[GroupTimeliness]:
        """Per group: dossiers returned in `period` early, on time and late."""
        statement = _timeliness_statement(by, period, tz, agencies)
        rows = (await self._connection.execute(statement)).all()
        return [
            GroupTimeliness(
                row.g, row.name, int(row.early or 0), int(row.on_time or 0), int(row.late or 0)
            )
            for row in rows
        ]


class local_day(FunctionElement[str]):  # noqa: N801 - SQL function naming
    """The local calendar day of a UTC timestamp column, shifted by a fixed offset."""

    type = String()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column, minutes = list(element.clauses)
    return f"date({compiler.process(column, **kw)}, {compiler.process(minutes, **kw)})"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    column, minutes = list(element.clauses)
    return (
        f"CAST(({compiler.process(column, **kw)} AT TIME ZONE 'UTC') "
        f"+ CAST({compiler.process(minutes, **kw)} AS INTERVAL) AS DATE)"
    )


def _offset_literal(tz: ZoneInfo, period: Period) -> ColumnElement[str]:
    start, _ = period.utc_bounds(tz)
    offset = start.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return literal(f"{minutes:+d} minutes", String())


# A constant group key; statements leave it out of GROUP BY (PostgreSQL refuses a constant).
_ALL_GROUP: ColumnElement[str] = literal_column(f"'{ALL}'", String())


def _group_by(by: Grouping, *keys: Any) -> list[Any]:
    """The GROUP BY terms: `keys`, without the constant key of the "all" grouping."""
    return [key for key in keys if key is not _ALL_GROUP]


def _answer_group(by: Grouping) -> ColumnElement[str]:
    return {
        "agency": survey_answers.c.agency_code,
        "procedure": survey_answers.c.procedure_code,
        "field": survey_answers.c.field,
        "all": _ALL_GROUP,
    }[by]


def _response_group(by: Grouping) -> tuple[ColumnElement[str], ColumnElement[str]]:
    r = survey_responses.c
    return {
        "agency": (r.agency_code, r.agency_name),
        "procedure": (r.procedure_code, r.procedure_name),
        "field": (r.field, r.field),
        "all": (_ALL_GROUP, _ALL_GROUP),
    }[by]


def _snapshot_group(by: Grouping) -> tuple[ColumnElement[str], ColumnElement[str]]:
    s = dossier_snapshots.c
    return {
        "agency": (s.agency_code, s.agency_name),
        "procedure": (s.procedure_code, s.procedure_name),
        "field": (s.field, s.field),
        "all": (_ALL_GROUP, _ALL_GROUP),
    }[by]


def _as_float(value: Any) -> ColumnElement[float]:
    return cast(value, Float)


def _scored_answers(by: Grouping, period: Period, agencies: Sequence[str] | None) -> Any:
    """The scored answers of the period as (g, kind, element, score, n) rows: `n` answers.

    By agency and over every agency they come from `survey_answer_totals` (a few hundred
    rows a month, kept by triggers); by procedure or field from the answers themselves
    (through the covering index, n = 1 each).
    """
    if by in ("agency", ALL):
        t = survey_answer_totals.c
        key = t.agency_code if by == "agency" else _ALL_GROUP
        return (
            select(key.label("g"), t.kind, t.element, t.score, t.answers.label("n"))
            .where(
                t.period_month.between(period.first_month, period.last_month),
                t.answers > 0,
                *(() if agencies is None else (t.agency_code.in_(agencies),)),
            )
            .subquery("scored")
        )
    a = survey_answers.c
    return (
        select(
            _answer_group(by).label("g"),
            a.kind,
            a.element,
            a.score,
            literal_column("1", Integer()).label("n"),
        )
        .where(
            a.period_month.between(period.first_month, period.last_month),
            a.kind.in_(("scale5", "rating3")),
            a.score.is_not(None),
            *(() if agencies is None else (a.agency_code.in_(agencies),)),
        )
        .subquery("scored")
    )


def _scores_statement(by: Grouping, period: Period, agencies: Sequence[str] | None) -> Any:
    a = _scored_answers(by, period, agencies).c
    satisfied = case(
        (and_(a.kind == "scale5", a.score >= SCALE5_SATISFIED), a.n),
        (and_(a.kind == "rating3", a.score >= RATING3_SATISFIED), a.n),
        else_=0,
    )
    valid = func.sum(a.n)
    # One pass over the counted answers; materialised so the two readers below do not
    # aggregate twice.
    per_element = (
        select(
            a.g,
            a.kind,
            a.element,
            valid.label("valid"),
            func.sum(satisfied).label("satisfied"),
            func.sum(a.score * a.n).label("total"),
            (100.0 * _as_float(func.sum(satisfied)) / _as_float(valid)).label("idx"),
        )
        .group_by(a.g, a.kind, a.element)
        .cte("per_element")
        .prefix_with("MATERIALIZED")
    )
    e = per_element.c
    per_group = (
        select(
            e.g,
            func.avg(e.idx).label("overall"),
            (_as_float(func.sum(e.total)) / _as_float(func.sum(e.valid))).label("mean"),
        )
        .where(e.kind == "scale5")
        .group_by(e.g)
        .cte("per_group")
    )
    return select(
        e.g,
        e.kind,
        e.element,
        e.valid,
        e.satisfied,
        e.idx,
        per_group.c.overall,
        per_group.c.mean,
    ).select_from(per_element.outerjoin(per_group, per_group.c.g == e.g))


def _timeliness_statement(
    by: Grouping, period: Period, tz: ZoneInfo, agencies: Sequence[str] | None
) -> Any:
    s = dossier_snapshots.c
    key, name = _snapshot_group(by)
    start, end = period.utc_bounds(tz)
    offset = _offset_literal(tz, period)
    returned = local_day(s.returned_at, offset)
    due = local_day(func.coalesce(s.original_due_at, s.due_at), offset)

    def count_when(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    return (
        select(
            key.label("g"),
            func.max(name).label("name"),
            count_when(returned < due).label("early"),
            count_when(returned == due).label("on_time"),
            count_when(returned > due).label("late"),
        )
        .where(
            s.returned_at >= start,
            s.returned_at < end,
            func.coalesce(s.original_due_at, s.due_at).is_not(None),
            *(() if agencies is None else (s.agency_code.in_(agencies),)),
        )
        .group_by(*_group_by(by, key))
    )
