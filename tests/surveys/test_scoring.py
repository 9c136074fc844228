"""Scoring against hand-computed fixtures, identical on SQLite and PostgreSQL; properties."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.ports import UnitOfWork, UnitOfWorkFactory
from bot.storage.engine import DatabaseEngine
from bot.storage.uow import SqlUnitOfWorkFactory
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
from surveys.periods import parse_period
from surveys.report import render_chart, render_csv, render_json, render_table
from surveys.scoring import SMALL_SAMPLE, IndexReport, Share, compute_index, wilson_interval

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)
ELEMENT_QUESTIONS = ("access", "procedure", "staff", "result", "feedback")


async def _respond(
    uow: UnitOfWork,
    code: str,
    agency: str,
    quick: int,
    scores: dict[str, int],
    when: datetime,
) -> None:
    """A response filed for `code` under `agency`, with its answers (the session closed)."""
    definition = default_catalog().default
    facts = DossierFacts(code, agency, f"UBND {agency}", "1.001193", "Đăng ký khai sinh", "Hộ tịch")
    user = await uow.users.get_or_create("telegram", "scorer", language="vi", now=when)
    rk = await uow.surveys.start(
        facts, survey_id=definition.id, user_id=user.id, now=when, expires_at=when, tz=TZ
    )
    await uow.surveys.save_answer(rk, definition.question("quick"), quick, now=when)
    for question_id, score in scores.items():
        await uow.surveys.save_answer(rk, definition.question(question_id), score, now=when)
    await uow.surveys.close(code)  # scoring reads responses and answers, not sessions


async def _index(factory: UnitOfWorkFactory, period: str) -> IndexReport:
    async with factory() as uow:
        return await compute_index(uow.scores, "agency", parse_period(period), tz=TZ)


async def test_hand_computed_fixture(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as repo:
        # Agency A: 3 responses.
        await _respond(repo, "A-1", "A", 3, {"access": 5, "procedure": 4, "staff": 2}, NOW)
        await _respond(repo, "A-2", "A", 2, {"access": 3, "procedure": 5}, NOW)
        await _respond(repo, "A-3", "A", 1, {}, NOW)
        # Agency B: 1 response, everything 4.
        await _respond(repo, "B-1", "B", 2, dict.fromkeys(ELEMENT_QUESTIONS, 4), NOW)
        # Another month: not in 2026-10.
        await _respond(repo, "A-9", "A", 1, {"access": 1}, NOW + timedelta(days=30))
        await repo.commit()
    report = await _index(any_uow_factory, "2026-10")
    quarter = await _index(any_uow_factory, "2026-Q4")
    # Both rest on a handful of answers: listed (by name), flagged, not ranked.
    a, b = report.groups
    assert (b.key, b.rank, b.n, b.overall, b.mean_score) == ("B", None, 1, 100.0, 4.0)
    assert b.small_sample and b.fewest_valid == 1
    # A: access 1 of 2 satisfied = 50; procedure 2 of 2 = 100; staff 0 of 1 = 0 → mean 50.
    assert a.key == "A"
    assert a.rank is None
    assert (a.thinnest_element, a.fewest_valid) == ("staff", 1)
    assert a.n == 3
    assert a.name == "UBND A"
    assert a.elements["access"].index == 50.0
    assert a.elements["procedure"].index == 100.0
    assert a.elements["staff"].index == 0.0
    assert "result" not in a.elements
    assert a.overall == pytest.approx(50.0)
    assert a.mean_score == pytest.approx((5 + 4 + 2 + 3 + 5) / 5)
    assert (a.quick.valid, a.quick.satisfied) == (3, 2)  # type: ignore[union-attr]
    assert a.quick.index == pytest.approx(200 / 3)  # type: ignore[union-attr]
    assert a.small_sample
    # Over the quarter the November response joins A: access 1 of 3.
    qa = next(g for g in quarter.groups if g.key == "A")
    assert qa.n == 4
    assert qa.elements["access"].index == pytest.approx(100 / 3)


def test_wilson_interval_matches_the_textbook() -> None:
    # 8 of 10 at 95 %: 0.4902 .. 0.9433 (Wilson 1927; Newcombe 1998 table).
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(49.02, abs=0.01)
    assert high == pytest.approx(94.33, abs=0.01)
    assert wilson_interval(0, 0) == (0.0, 100.0)


async def test_timeliness_against_the_original_appointment(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    def snap(
        code: str, due: datetime, returned: datetime, original: datetime | None = None
    ) -> Snapshot:
        return Snapshot(
            code=code,
            status=Status.RETURNED,
            status_changed_at=returned,
            agency_code="A",
            agency_name="UBND A",
            procedure_code="1.001193",
            procedure_name="Đăng ký khai sinh",
            field="Hộ tịch",
            received_at=due - timedelta(days=3),
            due_at=due,
            original_due_at=original,
            returned_at=returned,
            delivery="counter",
        )

    due = datetime(2026, 10, 10, 9, 0, tzinfo=TZ)
    rows = [
        snap("early", due, due - timedelta(days=1)),
        # 23:30 local on the due day is 16:30 UTC the same day: on time.
        snap("on-time", due, datetime(2026, 10, 10, 23, 30, tzinfo=TZ)),
        # 00:30 local the next day is still the due day in UTC: late in local days.
        snap("late", due, datetime(2026, 10, 11, 0, 30, tzinfo=TZ)),
        # Extended to the 20th and returned the 15th: late against the original date.
        snap("extended", due + timedelta(days=10), due + timedelta(days=5), original=due),
        snap("other-month", due, due + timedelta(days=30)),
    ]
    async with any_uow_factory() as uow:
        await uow.watch.save_snapshots(rows, now=NOW)
        await uow.commit()
    report = await _index(any_uow_factory, "2026-10")
    [group] = report.groups
    t = group.timeliness
    assert (t.early, t.on_time, t.late) == (1, 1, 2)
    assert group.n == 0
    assert group.overall is None
    assert group.rank is None


@given(valid=st.integers(0, 500), data=st.data())
def test_a_share_is_a_percentage_and_its_interval_holds_it(valid: int, data: st.DataObject) -> None:
    satisfied = data.draw(st.integers(0, valid))
    share = Share.of(valid, satisfied)
    assert 0.0 <= share.low <= share.index <= share.high <= 100.0 or valid == 0
    assert 0.0 <= share.index <= 100.0


@given(valid=st.integers(0, 500), data=st.data())
def test_one_more_satisfied_answer_never_lowers_a_share(valid: int, data: st.DataObject) -> None:
    satisfied = data.draw(st.integers(0, valid))
    before, after = Share.of(valid, satisfied), Share.of(valid + 1, satisfied + 1)
    assert after.index >= before.index
    assert after.low >= before.low - 1e-9


_EXAMPLES = itertools.count()

answers_strategy = st.lists(
    st.tuples(
        st.sampled_from("ABC"),
        st.integers(1, 3),
        st.dictionaries(st.sampled_from(ELEMENT_QUESTIONS), st.integers(1, 5)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(responses=answers_strategy)
async def test_sql_indices_stay_within_0_and_100_and_match_python(
    engine: DatabaseEngine, responses: list[tuple[str, int, dict[str, int]]]
) -> None:
    # The examples share one database: each files its answers under agencies of its own and
    # reads only those back.
    run = next(_EXAMPLES)
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        for number, (agency, quick, scores) in enumerate(responses):
            await _respond(uow, f"D-{run}-{number}", f"{agency}{run}", quick, scores, NOW)
        await uow.commit()
    agencies = sorted({f"{agency}{run}" for agency, _quick, _scores in responses})
    async with factory() as uow:
        report = await compute_index(
            uow.scores, "agency", parse_period("2026"), tz=TZ, agencies=agencies
        )
    assert {group.key for group in report.groups} == set(agencies)
    for group in report.groups:
        mine = [r for r in responses if f"{r[0]}{run}" == group.key]
        assert group.n == len(mine)
        indices = []
        for element in ELEMENT_QUESTIONS:
            given = [r[2][element] for r in mine if element in r[2]]
            if given:
                expected = 100.0 * sum(v >= 4 for v in given) / len(given)
                assert group.elements[element].index == pytest.approx(expected)
                indices.append(expected)
        if indices:
            assert group.overall == pytest.approx(sum(indices) / len(indices))
            assert 0.0 <= group.overall <= 100.0  # type: ignore[operator]
        else:
            assert group.overall is None


async def test_the_three_formats_and_the_chart(
    any_uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    async with any_uow_factory() as repo:
        for number in range(SMALL_SAMPLE):
            await _respond(repo, f"A-{number}", "A", 3, dict.fromkeys(ELEMENT_QUESTIONS, 5), NOW)
            await _respond(repo, f"B-{number}", "B", 1, dict.fromkeys(ELEMENT_QUESTIONS, 2), NOW)
        await _respond(repo, "C-1", "C", 3, dict.fromkeys(ELEMENT_QUESTIONS, 5), NOW)
        await repo.commit()
    report = await _index(any_uow_factory, "2026-Q4")
    table = render_table(report, "vi")
    assert "Chỉ số hài lòng theo cơ quan, kỳ 2026-Q4" in table
    lines = table.splitlines()
    first, second = (line for line in lines if line.startswith(("1 ", "2 ")))
    assert "UBND A" in first
    assert "100.0" in first
    assert "UBND B" in second
    apart = lines.index(next(line for line in lines if line.startswith("Không xếp hạng")))
    assert "UBND C" in lines[apart + 1] and "E1 1*" in lines[apart + 1]
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [r["key"] for r in rows] == ["A", "B", "C"]
    assert rows[1]["overall_index"] == "0.0000"
    assert [r["small_sample"] for r in rows] == ["0", "0", "1"]
    assert (rows[2]["fewest_valid"], rows[2]["thinnest_element"]) == ("1", "access")
    document = json.loads(render_json(report))
    assert [g["rank"] for g in document["groups"]] == [1, 2, None]
    chart = tmp_path / "index.png"
    render_chart(report, chart, "vi")
    assert chart.read_bytes().startswith(b"\x89PNG")


async def test_the_flag_counts_the_thinnest_element_not_the_responses(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as repo:
        # Q: 40 one-tap ratings, but only 2 answers in each element, all perfect.
        for number in range(40):
            scores = dict.fromkeys(ELEMENT_QUESTIONS, 5) if number < 2 else {}
            await _respond(repo, f"Q-{number}", "Q", 3, scores, NOW)
        # R: 30 full answers, lower but solid.
        for number in range(SMALL_SAMPLE):
            scores = dict.fromkeys(ELEMENT_QUESTIONS, 4 if number % 3 else 3)
            await _respond(repo, f"R-{number}", "R", 2, scores, NOW)
        # S: 30 responses, but one skipped the staff question.
        for number in range(SMALL_SAMPLE):
            scores = dict.fromkeys(ELEMENT_QUESTIONS, 5)
            if number == 0:
                del scores["staff"]
            await _respond(repo, f"S-{number}", "S", 3, scores, NOW)
        await repo.commit()
    report = await _index(any_uow_factory, "2026-10")
    by_key = {g.key: g for g in report.groups}
    q, r, s = by_key["Q"], by_key["R"], by_key["S"]
    assert (q.n, q.overall, q.fewest_valid, q.small_sample) == (40, 100.0, 2, True)
    assert (r.fewest_valid, r.small_sample, r.rank) == (30, False, 1)
    assert (s.thinnest_element, s.fewest_valid, s.small_sample) == ("staff", 29, True)
    # Q's 100 on two answers and S's 100 do not outrank R: they are listed apart.
    assert [g.key for g in report.ranked] == ["R"]
    assert [g.key for g in report.unranked] == ["Q", "S"]
    assert q.rank is None and s.rank is None


async def test_ties_share_a_rank(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as repo:
        for agency, high in (("T", 30), ("U", 30), ("V", 15), ("W", 0)):
            for number in range(SMALL_SAMPLE):
                scores = dict.fromkeys(ELEMENT_QUESTIONS, 5 if number < high else 2)
                await _respond(repo, f"{agency}-{number}", agency, 3, scores, NOW)
        await repo.commit()
    report = await _index(any_uow_factory, "2026-10")
    assert [(g.key, g.rank) for g in report.groups] == [("T", 1), ("U", 1), ("V", 3), ("W", 4)]
