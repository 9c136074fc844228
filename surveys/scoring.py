"""The satisfaction index of design §7, computed in SQL, and timeliness beside it.

For one grouping (agency, procedure or field) and one period:

- element index = answers ≥ 4 / valid answers to that element's questions × 100;
- overall index = mean of the element indices present; groups are ranked by it;
- n = responses (surveyed dossiers with at least one answer), mean score of the 5-point
  answers, the quick 3-level rating's satisfied share ("very satisfied" and "satisfied");
- a 95 % Wilson interval beside each share;
- the small-sample flag: an index rests on its thinnest element, so a group is flagged when
  any element present has fewer than 30 valid answers (`fewest_valid` says how many, and
  `thinnest_element` which element) — not by counting responses, many of which carry only
  the one-tap rating;
- the ranking: only groups with an index and no small-sample flag are ranked (1, 2, 2, 4 …
  by overall index); the others are listed after them, unranked. A group with one answer of
  100 % never ranks first.

One statement aggregates the answers in a single pass (the counts, the element and overall
indices, all in double precision, so SQLite and PostgreSQL agree); a second counts responses;
a third counts timeliness from `dossier_snapshots`. The Wilson bounds are derived from the
integer counts SQL returns, the flag and the ranking from the element counts.

Timeliness: a dossier returned on a local calendar day before its appointment day is early,
on that day on time, after it late. The appointment is the *original* one when the agency
extended it (``original_due_at``): an apology letter does not turn a late dossier into an
on-time one. Local days use the zone's UTC offset at the start of the period (Vietnam has
had no daylight saving time since 1975), the same arithmetic on both databases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from bot.storage.tables_watch import dossier_snapshots
from surveys.elements import ELEMENTS, RATING3_SATISFIED, SCALE5_SATISFIED
from surveys.periods import Period
from surveys.storage.tables import survey_answers, survey_responses

# "all" puts every answer of the scope in one group (the web workspace's trend line).
Grouping = Literal["agency", "procedure", "field", "all"]
GROUPINGS: tuple[Grouping, ...] = ("agency", "procedure", "field")
ALL: Grouping = "all"
SMALL_SAMPLE = 30
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a share, in percent; (0, 100) when there are no trials."""
    if trials <= 0:
        return 0.0, 100.0
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # At 0 % and 100 % the bound is exactly the share; floating point would miss it by 1e-15.
    low = 0.0 if successes == 0 else max(0.0, (centre - half) * 100)
    high = 100.0 if successes == trials else min(100.0, (centre + half) * 100)
    return low, high


@dataclass(frozen=True, slots=True)
class Share:
    """How many of `valid` answers were satisfied, the index (percent) and its interval."""

    valid: int
    satisfied: int
    index: float
    low: float
    high: float

    @classmethod
    def of(cls, valid: int, satisfied: int, index: float | None = None) -> Share:
        """A share from counts (`index` as SQL computed it, else derived)."""
        low, high = wilson_interval(satisfied, valid)
        value = index if index is not None else (100.0 * satisfied / valid if valid else 0.0)
        return cls(valid, satisfied, value, low, high)


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Dossiers returned early, on time and late against their appointment date."""

    early: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def total(self) -> int:
        """Dossiers counted."""
        return self.early + self.on_time + self.late


@dataclass(slots=True)
class GroupScore:
    """One agency, procedure or field over the period."""

    key: str
    name: str
    n: int = 0
    mean_score: float | None = None
    overall: float | None = None
    rank: int | None = None
    elements: dict[str, Share] = field(default_factory=dict)
    quick: Share | None = None
    timeliness: Timeliness = field(default_factory=Timeliness)

    @property
    def thinnest_element(self) -> str | None:
        """The element with the fewest valid answers (SIPAS order breaks ties), if any."""
        present = [e for e in ELEMENTS if e in self.elements]
        if not present:
            return None
        return min(present, key=lambda e: self.elements[e].valid)

    @property
    def fewest_valid(self) -> int:
        """The fewest valid answers in any element present (the one-tap rating's count when
        no element was answered): what the index rests on."""
        thinnest = self.thinnest_element
        if thinnest is not None:
            return self.elements[thinnest].valid
        return self.quick.valid if self.quick is not None else 0

    @property
    def small_sample(self) -> bool:
        """Some element rests on fewer than 30 valid answers: read the indices with care."""
        return self.fewest_valid < SMALL_SAMPLE

    @property
    def rankable(self) -> bool:
        """Whether the group has an index resting on enough answers to be ranked."""
        return self.overall is not None and not self.small_sample

    @property
    def timeliness_shares(self) -> tuple[float, float, float] | None:
        """Early, on time and late as percentages of the dossiers counted, or None."""
        total = self.timeliness.total
        if total == 0:
            return None
        t = self.timeliness
        return (100.0 * t.early / total, 100.0 * t.on_time / total, 100.0 * t.late / total)


@dataclass(frozen=True, slots=True)
class IndexReport:
    """The index for every group of one grouping over one period: the ranked groups best
    first, then the unranked ones (too few answers, or no element answered) by name."""

    by: Grouping
    period: Period
    groups: tuple[GroupScore, ...]

    @property
    def ranked(self) -> tuple[GroupScore, ...]:
        """The groups with a rank, best first."""
        return tuple(g for g in self.groups if g.rank is not None)

    @property
    def unranked(self) -> tuple[GroupScore, ...]:
        """The groups listed apart: too few answers for a rank, or no index."""
        return tuple(g for g in self.groups if g.rank is None)


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


async def compute_index(
    conn: AsyncConnection,
    by: Grouping,
    period: Period,
    *,
    tz: ZoneInfo,
    agencies: Sequence[str] | None = None,
) -> IndexReport:
    """The satisfaction index and timeliness for every group with data in `period`.

    `agencies` limits every figure to the answers and dossiers of those agencies (None: all).
    """
    groups: dict[str, GroupScore] = {}

    def group(key: str, name: str | None = None) -> GroupScore:
        found = groups.get(key)
        if found is None:
            found = groups[key] = GroupScore(key=key, name=name or key)
        elif name and found.name == key:
            found.name = name
        return found

    for row in (await conn.execute(_scores_statement(by, period, agencies))).all():
        score = group(row.g)
        share = Share.of(int(row.valid), int(row.satisfied), float(row.idx))
        if row.kind == "rating3":
            score.quick = share
        elif row.element in ELEMENTS:
            score.elements[row.element] = share
        if row.overall is not None:
            score.overall = float(row.overall)
            score.mean_score = float(row.mean)

    key, name = _response_group(by)
    responses = (
        select(key.label("g"), func.max(name).label("name"), func.count().label("n"))
        .where(survey_responses.c.period_month.between(period.first_month, period.last_month))
        .group_by(*_group_by(by, key))
    )
    if agencies is not None:
        responses = responses.where(survey_responses.c.agency_code.in_(agencies))
    for row in (await conn.execute(responses)).all():
        group(row.g, row.name).n = int(row.n)

    for row in (await conn.execute(_timeliness_statement(by, period, tz, agencies))).all():
        group(row.g, row.name).timeliness = Timeliness(
            int(row.early or 0), int(row.on_time or 0), int(row.late or 0)
        )

    return IndexReport(by=by, period=period, groups=rank_groups(groups.values()))


def rank_groups(groups: Iterable[GroupScore]) -> tuple[GroupScore, ...]:
    """Rank the rankable groups by overall index (ties share a rank: 1, 2, 2, 4) and list the
    others after them by name; sets each group's `rank` (None when unranked)."""

    def by_name(group: GroupScore) -> tuple[str, str]:
        return group.name.casefold(), group.key

    groups = list(groups)
    rankable = sorted(
        (g for g in groups if g.rankable),
        key=lambda g: (-(g.overall or 0.0), *by_name(g)),
    )
    for position, group in enumerate(rankable, start=1):
        previous = rankable[position - 2] if position > 1 else None
        same = previous is not None and previous.overall == group.overall
        group.rank = previous.rank if same and previous is not None else position
    others = sorted((g for g in groups if not g.rankable), key=by_name)
    for group in others:
        group.rank = None
    return (*rankable, *others)


def _scores_statement(by: Grouping, period: Period, agencies: Sequence[str] | None) -> Any:
    a = survey_answers.c
    g = _answer_group(by)
    satisfied = case(
        (and_(a.kind == "scale5", a.score >= SCALE5_SATISFIED), 1),
        (and_(a.kind == "rating3", a.score >= RATING3_SATISFIED), 1),
        else_=0,
    )
    valid = func.count(a.score)
    # One pass over the answers (through the covering index); materialised so the two
    # readers below do not aggregate twice.
    per_element = (
        select(
            g.label("g"),
            a.kind,
            a.element,
            valid.label("valid"),
            func.sum(satisfied).label("satisfied"),
            func.sum(a.score).label("total"),
            (100.0 * _as_float(func.sum(satisfied)) / _as_float(valid)).label("idx"),
        )
        .where(
            a.period_month.between(period.first_month, period.last_month),
            a.kind.in_(("scale5", "rating3")),
            a.score.is_not(None),
            *(() if agencies is None else (a.agency_code.in_(agencies),)),
        )
        .group_by(*_group_by(by, g, a.kind, a.element))
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
