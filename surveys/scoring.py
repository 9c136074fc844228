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

The score repository (`bot.ports.ScoreRepository`, ``uow.scores``) aggregates: on SQL one
statement over the answers in a single pass (the counts, the element and overall indices, in
double precision, so SQLite and PostgreSQL agree), a second counts responses, a third counts
timeliness from the dossier snapshots (`surveys/storage/scores.py`). This module turns those
figures into the report: the Wilson bounds from the integer counts, the flag and the ranking
from the element counts.

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
from zoneinfo import ZoneInfo

from bot.ports import ScoreRepository
from surveys.elements import ELEMENTS
from surveys.model import ALL, GROUPINGS, Grouping
from surveys.periods import Period

__all__ = [
    "ALL",
    "GROUPINGS",
    "GroupScore",
    "Grouping",
    "IndexReport",
    "Share",
    "compute_index",
    "rank_groups",
]

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


async def compute_index(
    scores: ScoreRepository,
    by: Grouping,
    period: Period,
    *,
    tz: ZoneInfo,
    agencies: Sequence[str] | None = None,
) -> IndexReport:
    """The satisfaction index and timeliness for every group with data in `period`.

    `agencies` limits every figure to the answers and dossiers of those agencies (None: all).
    The figures come from the score repository of an open unit of work (``uow.scores``).
    """
    groups: dict[str, GroupScore] = {}

    def group(key: str, name: str | None = None) -> GroupScore:
        found = groups.get(key)
        if found is None:
            found = groups[key] = GroupScore(key=key, name=name or key)
        elif name and found.name == key:
            found.name = name
        return found

    for row in await scores.element_scores(by, period, agencies):
        score = group(row.group)
        share = Share.of(row.valid, row.satisfied, row.index)
        if row.kind == "rating3":
            score.quick = share
        elif row.element in ELEMENTS:
            score.elements[row.element] = share
        if row.overall is not None and row.mean is not None:
            score.overall = row.overall
            score.mean_score = row.mean

    for counted in await scores.response_counts(by, period, agencies):
        group(counted.group, counted.name).n = counted.n

    for timely in await scores.timeliness(by, period, tz, agencies):
        group(timely.group, timely.name).timeliness = Timeliness(
            timely.early, timely.on_time, timely.late
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
