"""The satisfaction index's figures in memory: the twin of `surveys.storage.scores`
(`bot.ports.ScoreRepository`).

The same figures as the SQL aggregation, counted from the stored answers, responses and
snapshots (tests/surveys/test_scoring.py holds the twin, SQLite and PostgreSQL to the same
hand-computed figures). `surveys.scoring` turns them into the report, for `uow.scores` and for
the office twin's `index_report` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from bot.storage.memory.database import MemoryTables
from surveys.elements import RATING3_SATISFIED, SCALE5_SATISFIED
from surveys.model import ALL, ElementScore, GroupCount, Grouping, GroupTimeliness
from surveys.periods import Period


class MemoryScoreRepository:
    """`bot.ports.ScoreRepository` in memory: the same figures as the SQL aggregation."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def element_scores(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[ElementScore]:
        """Per group, kind and element: counts and index, with the group's overall figures."""
        counts: dict[tuple[str, str, str | None], list[int]] = {}
        for answer in self._t.answers.values():
            key, fields = answer.key, answer.fields
            kind, score = fields["kind"], fields["score"]
            if not period.first_month <= key.period_month <= period.last_month:
                continue
            if kind not in ("scale5", "rating3") or score is None:
                continue
            if agencies is not None and key.agency_code not in agencies:
                continue
            group = _group_of(by, key.agency_code, key.procedure_code, key.field)
            threshold = SCALE5_SATISFIED if kind == "scale5" else RATING3_SATISFIED
            valid_satisfied_total = counts.setdefault((group, kind, fields["element"]), [0, 0, 0])
            valid_satisfied_total[0] += 1
            valid_satisfied_total[1] += int(score >= threshold)
            valid_satisfied_total[2] += int(score)
        index = {k: 100.0 * sat / valid for k, (valid, sat, _) in counts.items()}
        overall: dict[str, tuple[float, float]] = {}
        for group in {k[0] for k in counts}:
            scale5 = [k for k in counts if k[0] == group and k[1] == "scale5"]
            if scale5:
                mean_index = sum(index[k] for k in scale5) / len(scale5)
                mean_score = sum(counts[k][2] for k in scale5) / sum(counts[k][0] for k in scale5)
                overall[group] = (mean_index, mean_score)
        return [
            ElementScore(
                group=group,
                kind=kind,
                element=element,
                valid=counts[(group, kind, element)][0],
                satisfied=counts[(group, kind, element)][1],
                index=index[(group, kind, element)],
                overall=overall[group][0] if group in overall else None,
                mean=overall[group][1] if group in overall else None,
            )
            for group, kind, element in sorted(counts, key=lambda k: (k[0], k[1], k[2] or ""))
        ]

    async def response_counts(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[GroupCount]:
        """Per group: its name and the responses filed in `period`."""
        found: dict[str, tuple[str, int]] = {}
        for response in self._t.responses.values():
            facts = response.facts
            if not period.first_month <= response.period_month <= period.last_month:
                continue
            if agencies is not None and facts.agency_code not in agencies:
                continue
            group = _group_of(by, facts.agency_code, facts.procedure_code, facts.field)
            name = _name_of(by, group, facts.agency_name, facts.procedure_name)
            known_name, n = found.get(group, (name, 0))
            found[group] = (max(known_name, name), n + 1)
        return [GroupCount(g, name, n) for g, (name, n) in sorted(found.items())]

    async def timeliness(
        self,
        by: Grouping,
        period: Period,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> list[GroupTimeliness]:
        """Per group: dossiers returned in `period` early, on time and late."""
        start, end = period.utc_bounds(tz)
        offset = start.utcoffset() or timedelta(0)
        found: dict[str, tuple[str, list[int]]] = {}
        for snapshot in self._t.snapshots.values():
            returned, due = snapshot.returned_at, snapshot.original_due_at or snapshot.due_at
            if returned is None or due is None or not start <= returned < end:
                continue
            if agencies is not None and snapshot.agency_code not in agencies:
                continue
            group = _group_of(by, snapshot.agency_code, snapshot.procedure_code, snapshot.field)
            name = _name_of(by, group, snapshot.agency_name, snapshot.procedure_name)
            known_name, tally = found.get(group, (name, [0, 0, 0]))
            returned_day = (returned.astimezone(UTC) + offset).date()
            due_day = (due.astimezone(UTC) + offset).date()
            tally[0 if returned_day < due_day else 1 if returned_day == due_day else 2] += 1
            found[group] = (max(known_name, name), tally)
        return [GroupTimeliness(g, name, *tally) for g, (name, tally) in sorted(found.items())]


def _group_of(by: Grouping, agency: str, procedure: str, field_: str) -> str:
    """The group key of an answer, response or dossier under grouping `by`."""
    return {"agency": agency, "procedure": procedure, "field": field_}.get(by, ALL)


def _name_of(by: Grouping, group: str, agency_name: str, procedure_name: str) -> str:
    """The name shown for a group (a field and the "all" group are their own name)."""
    return {"agency": agency_name, "procedure": procedure_name}.get(by, group)
