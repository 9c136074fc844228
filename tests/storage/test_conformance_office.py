"""The conformance checks of the workspace's ports (`StaffRepository`, `OfficeRepository`):
each runs on the in-memory twin, on SQLite and on PostgreSQL (`any_uow_factory`)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.office import CommentFilter
from bot.domain.pacing import ChannelLimit
from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.ports import DeliveryOutcome, Notice, OutboxState, UnitOfWork, UnitOfWorkFactory
from bot.storage.delivery import OutboxDeliveryQueue
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
from surveys.periods import parse_period
from tests.storage.helpers import T0

VN = ZoneInfo("Asia/Ho_Chi_Minh")
A, B = "000.00.15.H12", "000.00.53.H48"


async def _user(uow: UnitOfWork, channel_user_id: str) -> int:
    return (await uow.users.get_or_create("telegram", channel_user_id, language="vi", now=T0)).id


async def test_staff_accounts_sessions_and_audit(any_uow_factory: UnitOfWorkFactory) -> None:
    later = T0 + timedelta(hours=2)
    async with any_uow_factory() as uow:
        viewer = await uow.staff.add(
            "lan", password_hash="h1", role="viewer", agencies=[B, A, A], now=T0
        )
        assert viewer is not None and viewer.agencies == (A, B) and viewer.active
        assert (
            await uow.staff.add("lan", password_hash="h2", role="admin", agencies=[], now=T0)
            is None
        )
        admin = await uow.staff.add("an", password_hash="h3", role="admin", agencies=[], now=T0)
        assert admin is not None and admin.is_admin and admin.sees("anything")
        assert not viewer.sees(None) and viewer.sees(A) and not viewer.sees("000.11.22.H33")
        await uow.staff.open_session(viewer.id, "s1", now=T0, expires_at=T0 + timedelta(hours=1))
        await uow.staff.open_session(viewer.id, "s2", now=T0, expires_at=later)
        await uow.staff.open_session(admin.id, "s3", now=T0, expires_at=later)
        await uow.staff.audit("lan", "login", "127.0.0.1", now=T0)
        await uow.staff.audit("an", "outbox.requeue_dead", "all", now=later, detail="2 pushes")
        await uow.commit()
    async with any_uow_factory() as uow:
        assert [a.username for a in await uow.staff.accounts()] == ["an", "lan"]
        assert (await uow.staff.session_account("s1", now=T0)).username == "lan"  # type: ignore[union-attr]
        assert await uow.staff.session_account("s1", now=later) is None  # expired
        assert await uow.staff.session_account("nope", now=T0) is None
        assert await uow.staff.purge_sessions(now=T0 + timedelta(hours=1)) == 1
        assert await uow.staff.set_password("lan", "h4", now=later)
        assert await uow.staff.session_account("s2", now=T0) is None  # a new password ends it
        assert (await uow.staff.get("lan")).password_hash == "h4"  # type: ignore[union-attr]
        assert await uow.staff.set_active("an", False, now=later)
        assert await uow.staff.session_account("s3", now=T0) is None  # disabled
        assert not await uow.staff.set_active("nobody", False, now=later)
        trail = await uow.staff.audit_trail()
        assert [(e.username, e.action, e.detail) for e in trail] == [
            ("an", "outbox.requeue_dead", "2 pushes"),
            ("lan", "login", ""),
        ]
        await uow.commit()


def _facts(code: str, agency: str, name: str, procedure: str = "1.001") -> DossierFacts:
    return DossierFacts(code, agency, name, procedure, f"Thủ tục {procedure}", "Hộ tịch")


async def _answer_surveys(uow: UnitOfWork) -> None:
    definition = default_catalog().default
    user = await _user(uow, "42")
    plan = [
        (f"{A}-250301-0001", A, "UBND A", {"access": 5, "staff": 2}, 3, "Gọi 0912345678 đi"),
        (f"{A}-250301-0002", A, "UBND A", {"access": 4, "staff": 4, "feedback": 3}, 2, None),
        (f"{B}-250301-0003", B, "UBND B", {"access": 5, "feedback": 5}, 3, "Rất tốt"),
    ]  # fmt: skip
    for i, (code, agency, name, scores, quick, comment) in enumerate(plan):
        key = await uow.surveys.start(
            _facts(code, agency, name), survey_id=definition.id, user_id=user,
            now=T0 + timedelta(minutes=i), expires_at=T0 + timedelta(days=7), tz=VN,
        )  # fmt: skip
        await uow.surveys.save_answer(key, definition.question("quick"), quick, now=T0)
        for element, score in scores.items():
            await uow.surveys.save_answer(key, definition.question(element), score, now=T0)
        if comment:
            await uow.surveys.save_answer(
                key, definition.question("comment"), comment, now=T0 + timedelta(minutes=i)
            )


async def test_the_index_comments_and_agencies(any_uow_factory: UnitOfWorkFactory) -> None:
    returned = T0 + timedelta(days=1)
    async with any_uow_factory() as uow:
        await _answer_surveys(uow)
        await uow.watch.save_snapshots(
            [
                Snapshot(
                    code=f"{A}-250201-00{n}",
                    status=Status.RETURNED,
                    status_changed_at=returned,
                    agency_code=A,
                    agency_name="UBND A",
                    procedure_code="1.001",
                    procedure_name="Thủ tục 1.001",
                    field="Hộ tịch",
                    received_at=T0,
                    due_at=returned + timedelta(days=n - 1),
                    original_due_at=None,
                    returned_at=returned,
                    delivery="counter",
                )
                for n in range(3)
            ],
            now=T0,
        )
        await uow.commit()
    march = parse_period("2025-03")
    async with any_uow_factory() as uow:
        report = await uow.office.index_report("agency", march, tz=VN)
        scoped = await uow.office.index_report("agency", march, tz=VN, agencies=[A])
        overall = await uow.office.index_report("all", march, tz=VN, agencies=[A, B])
        agencies = await uow.office.agencies()
        mine = await uow.office.agencies([A])
        first, second = (CommentFilter(None, 202503, 202503), CommentFilter([A], 202503, 202503))
        everyone = await uow.office.comments(first)
        only_a = await uow.office.comments(second)
        unhappy = await uow.office.comments(
            CommentFilter(None, 202503, 202503, feedback_unhappy_only=True)
        )
        low = await uow.office.comments(CommentFilter(None, 202503, 202503, low_scores_only=True))
        searched = await uow.office.comments(CommentFilter(None, 202503, 202503, search="TỐT"))
    a, b = report.groups  # too few answers to rank either: listed by name
    assert (b.key, b.rank, b.overall, b.n, b.small_sample) == (B, None, 100.0, 1, True)
    # A: access 2/2, staff 1/2, feedback 0/1 -> (100 + 50 + 0) / 3
    assert (a.key, a.rank, a.n, a.name) == (A, None, 2, "UBND A")
    assert a.overall is not None and abs(a.overall - 50.0) < 1e-9
    assert a.elements["staff"].valid == 2 and a.elements["staff"].satisfied == 1
    assert a.quick is not None and (a.quick.valid, a.quick.satisfied) == (2, 2)
    assert a.mean_score is not None and abs(a.mean_score - 18 / 5) < 1e-9
    assert (a.timeliness.early, a.timeliness.on_time, a.timeliness.late) == (1, 1, 1)
    assert [g.key for g in scoped.groups] == [A]
    [everything] = overall.groups
    assert everything.n == 3 and everything.elements["access"].satisfied == 3
    assert [(x.code, x.name) for x in agencies] == [(A, "UBND A"), (B, "UBND B")]
    assert [x.code for x in mine] == [A]
    assert [c.text for c in everyone] == ["Rất tốt", "Gọi 0912345678 đi"]
    assert [c.agency_code for c in only_a] == [A]
    assert only_a[0].scores == {"access": 5, "staff": 2} and only_a[0].quick == 3
    assert unhappy == []  # the unhappy response (feedback 3) wrote no comment
    assert [c.agency_code for c in low] == [A]
    assert [c.agency_code for c in searched] == [B]


async def test_usage_delivery_and_scoped_requeue(any_uow_factory: UnitOfWorkFactory) -> None:
    day = 20250314
    async with any_uow_factory() as uow:
        await uow.office.add_lookups({A: 2, B: 1}, day=day)
        await uow.office.add_lookups({A: 1}, day=day + 1)
        users = [await _user(uow, str(n)) for n in range(2)]
        await uow.owners.add(users[0], f"{A}-250301-0001", method="pin", now=T0)
        await uow.owners.add(users[1], f"{A}-250301-0002", method="pin", now=T0)
        await uow.subscriptions.subscribe(users[0], f"{A}-250301-0001", now=T0)
        await uow.outbox.enqueue_many(
            [
                Notice(users[0], "ready", "n1", dossier_code=f"{A}-250301-0001"),
                Notice(users[1], "ready", "n2", dossier_code=f"{B}-250301-0009"),
            ],
            now=T0,
        )
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    limits = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}
    claimed = await queue.claim(
        now=T0,
        token="w",
        limits=limits,
        lease=timedelta(minutes=1),
        horizon=1.0,
        lead=0.0,
        limit=10,
    )
    for notice in claimed:
        await queue.settle([DeliveryOutcome(notice, OutboxState.DEAD, error="Bad Request")], now=T0)
    async with any_uow_factory() as uow:
        usage = await uow.office.usage(first_day=day, last_day=day + 1, agencies=None, tz=VN)
        scoped = await uow.office.usage(first_day=day, last_day=day, agencies=[B], tz=VN)
        delivery = await uow.office.delivery(agencies=None, now=T0)
        delivery_a = await uow.office.delivery(agencies=[A], now=T0)
        assert await uow.outbox.requeue_dead(now=T0, agencies=[A]) == 1
        assert await uow.outbox.requeue_dead(now=T0, agencies=[]) == 0
        after = await uow.office.delivery(agencies=None, now=T0)
        await uow.commit()
    assert usage.lookups_per_day == {day: 3, day + 1: 1}
    by_code = {u.agency_code: u for u in usage.agencies}
    assert (by_code[A].lookups, by_code[A].verified_citizens, by_code[A].followed_dossiers) == (
        3,
        2,
        1,
    )
    assert by_code[B].lookups == 1
    assert [(u.agency_code, u.lookups) for u in scoped.agencies] == [(B, 1)]
    assert delivery.counts == {("dead", "telegram"): 2}
    assert delivery_a.counts == {("dead", "telegram"): 1}
    assert [f.error for f in delivery_a.failures] == ["Bad Request"]
    assert after.counts == {("dead", "telegram"): 1, ("queued", "telegram"): 1}
    assert after.oldest_queued_at == T0


async def test_the_index_follows_replaced_and_removed_answers(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    """By agency the SQL index reads totals kept by triggers: they follow every change."""
    definition = default_catalog().default
    access, staff = definition.question("access"), definition.question("staff")
    async with any_uow_factory() as uow:
        user = await _user(uow, "7")
        key = await uow.surveys.start(
            _facts(f"{A}-250301-0077", A, "UBND A"), survey_id=definition.id, user_id=user,
            now=T0, expires_at=T0 + timedelta(days=7), tz=VN,
        )  # fmt: skip
        await uow.surveys.save_answer(key, access, 5, now=T0)
        await uow.surveys.save_answer(key, staff, 4, now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        await uow.surveys.save_answer(key, access, 2, now=T0)  # the citizen went back
        await uow.surveys.remove_answers(key.response_id, [staff.id])
        await uow.commit()
    async with any_uow_factory() as uow:
        report = await uow.office.index_report("agency", parse_period("2025-03"), tz=VN)
    [group] = report.groups
    assert set(group.elements) == {"access"}
    assert (group.elements["access"].valid, group.elements["access"].satisfied) == (1, 0)
    assert group.overall == 0.0 and group.mean_score == 2.0
