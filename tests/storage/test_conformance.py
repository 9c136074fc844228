"""The conformance suite of the storage ports: every check runs on the in-memory twin
(`bot.storage.memory`), on SQLite and on PostgreSQL (the `any_uow_factory` fixture).

It covers the ports the other storage tests do not (the watcher's memory, the quarantine, the
outbox and the delivery queue, surveys, Zalo, the housekeeping purges, transactions); the
port-level tests in
`test_users.py`, `test_ownership.py`, `test_rate_limits.py`, `test_conversations.py` and
`test_subscriptions.py`, and the scoring tests (`tests/surveys/test_scoring.py`, the score
repository) run on all three as well. A new repository port gets its checks here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.intake import MAX_RAW_CHARS, RejectedItem
from bot.domain.notice_kinds import NoticeKind
from bot.domain.pacing import ChannelLimit
from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.ports import (
    Bucket,
    DeliveryOutcome,
    Notice,
    OperationalFigures,
    OutboxState,
    StoredTokens,
    SurveyAlreadyStarted,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.storage.delivery import OutboxDeliveryQueue
from bot.storage.uow import SqlUnitOfWorkFactory
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
from tests.notify.watch_support import dossier
from tests.storage.helpers import T0, FakeClock

CODE = "000.00.15.H12-250310-0042"
OTHER = "000.00.15.H12-250310-0043"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
FAST = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}
LEASE = timedelta(seconds=60)


def snapshot(code: str = CODE, status: Status = Status.PROCESSING, **changes: object) -> Snapshot:
    values: dict[str, object] = {
        "code": code,
        "status": status,
        "status_changed_at": T0,
        "agency_code": "000.00.15.H12",
        "agency_name": "UBND phường Bến Nghé",
        "procedure_code": "1.001",
        "procedure_name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "received_at": T0 - timedelta(days=5),
        "due_at": T0 + timedelta(days=3),
        "original_due_at": None,
        "returned_at": None,
        "delivery": "counter",
    }
    values.update(changes)
    return Snapshot(**values)  # type: ignore[arg-type]


async def new_user(uow: UnitOfWork, channel_user_id: str = "1001") -> int:
    return (await uow.users.get_or_create("telegram", channel_user_id, language="vi", now=T0)).id


def notice(user_id: int, n: int, code: str = CODE, **options: object) -> Notice:
    return Notice(
        user_id=user_id,
        kind=str(options.pop("kind", "reminder")),
        dedup_key=f"t:{user_id}:{n}",
        dossier_code=code,
        params={"n": n},
        **options,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- transactions


async def test_leaving_without_commit_keeps_nothing(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.commit()
    async with any_uow_factory() as uow:
        await uow.users.set_language(user, "en")
        await uow.watch.save_snapshots([snapshot()], now=T0)
    async with any_uow_factory() as uow:
        assert (await uow.users.get(user)).language == "vi"  # type: ignore[union-attr]
        assert await uow.watch.snapshots([CODE]) == {}
        await uow.users.set_language(user, "en")
        await uow.rollback()
        assert (await uow.users.get(user)).language == "vi"  # type: ignore[union-attr]


async def test_statements_after_a_commit_start_a_new_transaction(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.commit()
        await uow.users.set_language(user, "en")  # not committed
    async with any_uow_factory() as uow:
        assert (await uow.users.get(user)).language == "vi"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- watcher memory


async def test_snapshots_round_trip_and_a_later_status_wins(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    stored = snapshot(due_at=T0 + timedelta(days=2), original_due_at=T0)
    async with any_uow_factory() as uow:
        assert await uow.watch.snapshots([CODE]) == {}
        await uow.watch.save_snapshots([stored, snapshot(OTHER)], now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.watch.snapshots([CODE, "unknown"]) == {CODE: stored}
        older = snapshot(status=Status.RECEIVED, status_changed_at=T0 - timedelta(hours=1))
        newer = snapshot(status=Status.READY, status_changed_at=T0 + timedelta(hours=1))
        await uow.watch.save_snapshots([older], now=T0)
        assert (await uow.watch.snapshots([CODE]))[CODE].status is Status.PROCESSING
        await uow.watch.save_snapshots([newer], now=T0)
        assert (await uow.watch.snapshots([CODE]))[CODE] == newer
        await uow.watch.remember([snapshot(status=Status.RECEIVED), snapshot("fresh")], now=T0)
        found = await uow.watch.snapshots([CODE, "fresh"])
        assert found[CODE] == newer  # remember keeps what is stored
        assert found["fresh"].status is Status.PROCESSING


async def test_overdue_candidates_are_marked_once(any_uow_factory: UnitOfWorkFactory) -> None:
    past = T0 - timedelta(days=1)
    async with any_uow_factory() as uow:
        await uow.watch.save_snapshots(
            [
                snapshot("a", due_at=past - timedelta(days=1)),
                snapshot("b", due_at=past),
                snapshot("ready", Status.READY, due_at=past),
                snapshot("future", due_at=T0 + timedelta(days=1)),
                snapshot("no-date", due_at=None),
            ],
            now=T0,
        )
        assert [s.code for s in await uow.watch.overdue_candidates(now=T0, limit=10)] == [
            "a",
            "b",
        ]
        assert [s.code for s in await uow.watch.overdue_candidates(now=T0, limit=1)] == ["a"]
        await uow.watch.mark_overdue_notified(["a"], now=T0)
        assert [s.code for s in await uow.watch.overdue_candidates(now=T0, limit=10)] == ["b"]
        assert (await uow.watch.snapshots(["a"]))["a"].overdue_notified_at == T0


async def test_the_cursor_moves_only_from_where_it_was(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        assert await uow.watch.cursor() is None
        assert await uow.watch.advance_cursor(None, "c1", now=T0)
        assert not await uow.watch.advance_cursor(None, "c9", now=T0)
        assert not await uow.watch.advance_cursor("c0", "c9", now=T0)
        assert await uow.watch.advance_cursor("c1", "c2", now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.watch.cursor() == "c2"


async def test_the_lease_passes_on_only_when_it_lapses_or_is_given_up(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    ttl = timedelta(seconds=30)
    async with any_uow_factory() as uow:
        assert await uow.watch.take_lease("a", ttl=ttl, now=T0)
        assert not await uow.watch.take_lease("b", ttl=ttl, now=T0 + timedelta(seconds=10))
        assert await uow.watch.take_lease("a", ttl=ttl, now=T0 + timedelta(seconds=20))
        assert not await uow.watch.take_lease("b", ttl=ttl, now=T0 + timedelta(seconds=45))
        assert await uow.watch.take_lease("b", ttl=ttl, now=T0 + timedelta(seconds=51))
        await uow.watch.release_lease("a", now=T0 + timedelta(seconds=52))  # not a's
        assert not await uow.watch.take_lease("a", ttl=ttl, now=T0 + timedelta(seconds=53))
        await uow.watch.release_lease("b", now=T0 + timedelta(seconds=54))
        assert await uow.watch.take_lease("a", ttl=ttl, now=T0 + timedelta(seconds=55))


async def test_pushed_event_ids_count_once_until_purged(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        assert await uow.watch.record_events(["e1", "e2", "e1"], now=T0) == {"e1", "e2"}
        assert await uow.watch.record_events(["e2", "e3"], now=T0 + timedelta(days=2)) == {"e3"}
        assert await uow.watch.purge_events(T0 + timedelta(days=1)) == 2
        assert await uow.watch.record_events(["e1", "e3"], now=T0 + timedelta(days=3)) == {"e1"}


# --------------------------------------------------------------------------- the quarantine


async def test_quarantined_items_are_kept_refreshed_and_superseded(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    poison = RejectedItem("fee.amount: greater_than_equal", '{"fee": -1}', CODE, 0, None)
    unreadable = RejectedItem("(item): model_type", "42", None)
    async with any_uow_factory() as uow:
        assert await uow.quarantine.hold([poison, unreadable], source="feed", now=T0) == 2
        await uow.commit()
    later = T0 + timedelta(minutes=1)
    async with any_uow_factory() as uow:
        again = RejectedItem("note: string_type", "x" * 20_000 + "\x00", CODE, 0, "e-1")
        await uow.quarantine.hold([again], source="event", now=later)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.quarantine.open_count() == 2
        newest, oldest = await uow.quarantine.list()
        assert (newest.dossier_code, newest.times_seen, newest.source) == (CODE, 2, "event")
        assert (newest.first_seen_at, newest.last_seen_at) == (T0, later)
        assert newest.reason == "note: string_type" and newest.event_id == "e-1"
        assert len(newest.payload) == MAX_RAW_CHARS and newest.payload.endswith("…")
        assert oldest.dossier_code is None and oldest.payload == "42"
        assert await uow.quarantine.get(newest.id) == newest
        assert await uow.quarantine.get(newest.id + 1000) is None

        assert await uow.quarantine.release([CODE, OTHER], now=later) == 1
        assert await uow.quarantine.open_count() == 1
        assert [i.dossier_code for i in await uow.quarantine.list()] == [None]
        resolved = await uow.quarantine.get(newest.id)
        assert resolved is not None and resolved.resolved_at == later
        assert len(await uow.quarantine.list(include_resolved=True)) == 2
        unreadable_id = (await uow.quarantine.list())[0].id
        assert await uow.quarantine.dismiss(unreadable_id, now=later)
        assert not await uow.quarantine.dismiss(unreadable_id, now=later)  # closed already
        assert await uow.quarantine.open_count() == 0
        assert await uow.quarantine.purge_resolved(later) == 0
        assert await uow.quarantine.purge_resolved(later + timedelta(seconds=1)) == 2
        assert await uow.quarantine.list(include_resolved=True) == []
        with pytest.raises(ValueError):
            await uow.quarantine.hold([poison], source="elsewhere", now=T0)


async def test_long_texts_are_kept_cut_alike_everywhere(any_uow_factory: UnitOfWorkFactory) -> None:
    long = dossier(
        agency={"code": "A" * 100, "name": "Ủy ban " * 100},
        procedure={"code": "P" * 100, "name": "Thủ tục " * 100, "field": "Lĩnh\x00 vực " * 50},
    )
    async with any_uow_factory() as uow:
        await uow.watch.save_snapshots([Snapshot.of(long)], now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        stored = (await uow.watch.snapshots([CODE]))[CODE]
    assert stored == Snapshot.of(long)
    assert (len(stored.agency_code), len(stored.agency_name)) == (64, 255)
    assert (len(stored.procedure_code), len(stored.procedure_name)) == (64, 500)
    assert stored.agency_name.endswith("…") and "\x00" not in stored.field


# --------------------------------------------------------------------------- subscriptions


async def test_recipients_and_dossiers_without_snapshot(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        first, second = await new_user(uow, "1"), await new_user(uow, "2")
        await uow.subscriptions.subscribe(second, CODE, now=T0)
        await uow.subscriptions.subscribe(first, CODE, now=T0 + timedelta(minutes=1))
        await uow.subscriptions.subscribe(first, OTHER, now=T0)
        await uow.users.set_blocked(second, True)
        recipients = await uow.subscriptions.recipients_of([CODE, OTHER, "nobody"])
        assert set(recipients) == {CODE, OTHER}
        assert [(r.user_id, r.blocked) for r in recipients[CODE]] == [
            (first, False),
            (second, True),
        ]
        assert recipients[CODE][0].subscribed_at == T0 + timedelta(minutes=1)
        assert await uow.subscriptions.followed_without_snapshot(10) == [CODE, OTHER]
        await uow.watch.remember([snapshot(CODE)], now=T0)
        assert await uow.subscriptions.followed_without_snapshot(10) == [OTHER]
        assert await uow.subscriptions.end_for_dossiers([OTHER], reason="returned", now=T0) == 1
        assert await uow.subscriptions.followed_without_snapshot(10) == []
        assert await uow.subscriptions.recipients_of([OTHER]) == {}


# --------------------------------------------------------------------------- the outbox


async def test_enqueue_is_idempotent_by_dedup_key(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        assert await uow.outbox.enqueue(notice(user, 1), now=T0)
        assert not await uow.outbox.enqueue(notice(user, 1), now=T0)
        assert await uow.outbox.enqueue_many([notice(user, 1), notice(user, 2)], now=T0) == 1
        counts = await uow.outbox.counts()
    assert counts[OutboxState.QUEUED] == 2
    assert set(counts) == set(OutboxState)


async def test_cancel_by_dossiers_and_kinds_and_for_a_user(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user, other = await new_user(uow, "1"), await new_user(uow, "2")
        await uow.outbox.enqueue_many(
            [
                notice(user, 1),
                notice(user, 2, OTHER),
                notice(user, 3, kind="ready"),
                notice(other, 4),
                notice(other, 5, OTHER),
            ],
            now=T0,
        )
        assert await uow.outbox.cancel([CODE, OTHER], ["reminder"], now=T0) == 4
        assert await uow.outbox.cancel([CODE, OTHER], ["reminder"], now=T0) == 0
        assert await uow.outbox.cancel([], ["ready"], now=T0) == 0
        assert await uow.outbox.cancel_for_user(other, now=T0) == 0
        assert await uow.outbox.cancel_for_user(user, dossier_code=OTHER, now=T0) == 0
        assert await uow.outbox.cancel_for_user(user, dossier_code=CODE, now=T0) == 1
        counts = await uow.outbox.counts()
    assert (counts[OutboxState.CANCELLED], counts[OutboxState.QUEUED]) == (5, 0)


async def test_claim_and_settle_through_the_delivery_queue_then_requeue_the_dead(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        users = [await new_user(uow, str(n)) for n in range(3)]
        await uow.outbox.enqueue_many(
            [
                notice(users[0], 1),
                notice(users[0], 2),  # the same chat: one per claim
                notice(users[1], 3, urgent=True),
                notice(users[2], 4, expires_at=T0 - timedelta(minutes=1)),
                notice(users[2], 5, not_before=T0 + timedelta(hours=1)),
            ],
            now=T0,
        )
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    limits = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=1.0)}
    claim = {"limits": limits, "lease": LEASE, "horizon": 1.0, "lead": 0.0, "limit": 10}
    claimed = await queue.claim(now=T0, token="w:1", **claim)  # type: ignore[arg-type]
    assert [c.params["n"] for c in claimed] == [3, 1]  # urgent first, one per user
    assert claimed[0].slot <= claimed[1].slot
    assert (claimed[0].channel, claimed[0].channel_user_id, claimed[0].language) == (
        "telegram",
        "1",
        "vi",
    )
    assert await queue.claim(now=T0, token="w:2", **claim) == []  # type: ignore[arg-type]
    urgent, first = claimed
    later = T0 + timedelta(minutes=5)
    outcomes = [
        DeliveryOutcome(urgent, OutboxState.SENT),
        DeliveryOutcome(first, OutboxState.DEAD, error="gave up", block_user=True),
    ]
    # (One outcome per call: PostgreSQL's driver does not count the rows of a batch.)
    assert [await queue.settle([outcome], now=T0) for outcome in outcomes] == [1, 1]
    assert await queue.settle(outcomes[:1], now=T0) == 0  # settled already: nothing changes
    async with any_uow_factory() as uow:
        counts = await uow.outbox.counts()
        assert (await uow.users.get(users[0])).blocked  # type: ignore[union-attr]
    assert counts[OutboxState.SENT] == counts[OutboxState.DEAD] == counts[OutboxState.EXPIRED] == 1
    # What operators do (`motcua outbox --requeue-dead`, the office's delivery page).
    async with any_uow_factory() as uow:
        assert await uow.outbox.requeue_dead(now=later, kind=NoticeKind.OVERDUE) == 0
        assert await uow.outbox.requeue_dead(now=later, kind=NoticeKind.REMINDER) == 1
        assert await uow.outbox.requeue_dead(now=later) == 0
        await uow.commit()
    # The blocked user's notices die at the next claim; the delayed one is not due yet.
    assert await queue.claim(now=later, token="w:3", **claim) == []  # type: ignore[arg-type]
    async with any_uow_factory() as uow:
        counts = await uow.outbox.counts()
    assert (counts[OutboxState.DEAD], counts[OutboxState.QUEUED]) == (2, 1)


async def test_a_lapsed_lease_is_claimed_again_and_fences_the_old_claim(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.outbox.enqueue(notice(user, 1), now=T0)
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    claim = {"limits": FAST, "lease": LEASE, "horizon": 1.0, "lead": 0.0, "limit": 10}
    [old] = await queue.claim(now=T0, token="dead-worker", **claim)  # type: ignore[arg-type]
    [new] = await queue.claim(now=T0 + 2 * LEASE, token="w", **claim)  # type: ignore[arg-type]
    assert new.id == old.id
    assert await queue.settle([DeliveryOutcome(old, OutboxState.SENT)], now=T0) == 0
    assert await queue.settle([DeliveryOutcome(new, OutboxState.SENT)], now=T0) == 1


async def test_pacing_spaces_a_chat_and_a_paused_channel_gives_no_slot(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        users = [await new_user(uow, str(n)) for n in range(2)]
        await uow.outbox.enqueue_many(
            [notice(users[0], 1), notice(users[0], 2), notice(users[1], 3)], now=T0
        )
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    limits = {"telegram": ChannelLimit(per_second=2, per_chat_interval=1.0)}
    claim = {"limits": limits, "lease": LEASE, "horizon": 1.0, "lead": 0.0, "limit": 10}
    first = await queue.claim(now=T0, token="a", **claim)  # type: ignore[arg-type]
    assert [c.params["n"] for c in first] == [1, 3]
    assert first[1].slot - first[0].slot == limits["telegram"].slot_interval
    await queue.settle([DeliveryOutcome(c, OutboxState.SENT) for c in first], now=T0)
    assert await queue.claim(now=T0, token="b", **claim) == []  # type: ignore[arg-type]
    await queue.pause("telegram", T0 + timedelta(seconds=30))
    await queue.pause("telegram", T0 + timedelta(seconds=10))  # an earlier end changes nothing
    soon = T0 + timedelta(seconds=20)
    assert await queue.claim(now=soon, token="c", **claim) == []  # type: ignore[arg-type]
    later = T0 + timedelta(seconds=30)
    [second] = await queue.claim(now=later, token="d", **claim)  # type: ignore[arg-type]
    assert second.params["n"] == 2 and second.slot >= later


async def test_held_notices_are_released_and_finished_ones_purged(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.outbox.enqueue_many([notice(user, 1), notice(user, 2)], now=T0)
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    claim = {"limits": FAST, "lease": LEASE, "horizon": 1.0, "lead": 0.0, "limit": 10}
    [one] = await queue.claim(now=T0, token="a", **claim)  # type: ignore[arg-type]
    await queue.settle([DeliveryOutcome(one, OutboxState.HELD, error="window")], now=T0)
    [two] = await queue.claim(now=T0, token="b", **claim)  # type: ignore[arg-type]
    await queue.settle([DeliveryOutcome(two, OutboxState.SENT)], now=T0)
    async with any_uow_factory() as uow:
        assert await uow.outbox.release_held(user, now=T0) == 1
        assert await uow.outbox.release_held(user, now=T0) == 0
        assert await uow.outbox.purge_finished(T0) == 0  # not older than the cut-off
        assert await uow.outbox.purge_finished(T0 + timedelta(days=31)) == 1  # the sent one
        counts = await uow.outbox.counts()
    assert counts[OutboxState.QUEUED] == 1 and sum(counts.values()) == 1


async def test_erasing_a_user_removes_their_notices(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user, other = await new_user(uow, "1"), await new_user(uow, "2")
        await uow.outbox.enqueue_many([notice(user, 1), notice(other, 2)], now=T0)
        await uow.users.erase(user)
        counts = await uow.outbox.counts()
    assert counts[OutboxState.QUEUED] == 1


# --------------------------------------------------------------------------- housekeeping


async def test_purges_of_rate_limits_and_conversations(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        old, new = Bucket("old", 1, 60), Bucket("new", 1, 60)
        await uow.rate_limits.reserve([old], now=T0 - timedelta(days=2))
        await uow.rate_limits.reserve([new], now=T0)
        await uow.conversations.set(user, "await_pin", {}, expires_at=T0)
        assert await uow.rate_limits.purge(T0) == 1
        assert await uow.rate_limits.retry_after([new], now=T0) == 60
        assert await uow.conversations.purge_expired(T0 - timedelta(seconds=1)) == 0
        assert await uow.conversations.purge_expired(T0) == 1


# --------------------------------------------------------------------------- users


async def test_only_the_creating_call_is_a_first_contact(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        first = await uow.users.get_or_create("telegram", "42", language="vi", now=T0)
        again = await uow.users.get_or_create("telegram", "42", language="vi", now=T0)
        owned = await uow.users.get_or_create_with_ownership(
            "zalo", "42", CODE, language="vi", now=T0
        )
        await uow.commit()
    async with any_uow_factory() as uow:
        later, _ = await uow.users.get_or_create_with_ownership(
            "zalo", "42", CODE, language="vi", now=T0
        )
    assert (first.first_contact, again.first_contact) == (True, False)
    assert (owned[0].first_contact, later.first_contact) == (True, False)


# --------------------------------------------------------------------------- surveys

FACTS = DossierFacts(CODE, "000.00.15.H12", "UBND phường", "1.001", "Đăng ký khai sinh", "Hộ tịch")


async def test_a_survey_session_keeps_its_answers_and_its_way_back(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    definition = next(iter(default_catalog()))
    first, second = [q for q in definition.questions if q.type in ("scale5", "rating3")][:2]
    expires = T0 + timedelta(days=7)
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        assert not await uow.surveys.response_exists(CODE)
        key = await uow.surveys.start(
            FACTS, survey_id=definition.id, user_id=user, now=T0, expires_at=expires, tz=VN
        )
        assert key.period_month == 202503
        await uow.surveys.save_answer(key, first, 4, now=T0)
        await uow.surveys.save_answer(key, first, 5, now=T0)  # replaces
        await uow.surveys.save_answer(key, second, 3, now=T0)
        await uow.surveys.remove_answers(key.response_id, [second.id])
        await uow.surveys.move(CODE, second.id, [first.id], now=T0 + timedelta(minutes=1))
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.surveys.response_exists(CODE)
        session = await uow.surveys.session(CODE)
        assert session is not None
        assert (session.user_id, session.survey_id, session.key) == (user, definition.id, key)
        assert session.progress.current == second.id
        assert session.progress.history == (first.id,)
        assert dict(session.progress.answers) == {first.id: 5}
        assert [s.dossier_code for s in await uow.surveys.sessions_of(user, now=T0)] == [CODE]
        assert await uow.surveys.sessions_of(user, now=expires) == []
        with pytest.raises(SurveyAlreadyStarted):
            await uow.surveys.start(
                FACTS, survey_id=definition.id, user_id=user, now=T0, expires_at=expires, tz=VN
            )
    async with any_uow_factory() as uow:
        assert await uow.surveys.close_expired(T0) == 0
        assert await uow.surveys.close_expired(expires) == 1
        assert await uow.surveys.session(CODE) is None
        assert await uow.surveys.response_exists(CODE)  # the answers stay


# --------------------------------------------------------------------------- Zalo


async def test_zalo_tokens_are_seeded_once_and_replaced(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        assert await uow.zalo_tokens.get() is None
        await uow.zalo_tokens.seed("a0", "r0", now=T0)
        await uow.zalo_tokens.seed("a1", "r1", now=T0)  # a pair is stored: kept
        assert await uow.zalo_tokens.get(lock=True) == StoredTokens("a0", "r0", None, 0)
        renewed = StoredTokens("a2", "r2", T0 + timedelta(hours=25), 1)
        await uow.zalo_tokens.store(renewed, now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.zalo_tokens.get() == renewed


async def test_unsubscribe_uses_the_factorys_clock(any_uow_factory: UnitOfWorkFactory) -> None:
    any_uow_factory.clock = FakeClock(T0 + timedelta(hours=2))  # type: ignore[attr-defined]
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.subscriptions.subscribe(user, CODE, now=T0)
        assert await uow.subscriptions.unsubscribe(user, CODE)
        assert not await uow.subscriptions.is_subscribed(user, CODE)


# --------------------------------------------------------------------------- inbound journal


async def test_the_inbound_journal_admits_once_and_hands_out_what_was_left_unfinished(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    later = T0 + LEASE + timedelta(seconds=1)
    async with any_uow_factory() as uow:
        fresh = await uow.inbound.record(
            "telegram", [("1", "a"), ("2", "b"), ("3", "c")], now=T0, lease_until=T0 + LEASE
        )
        assert fresh == {"1", "2", "3"}
        assert await uow.inbound.record("telegram", [("1", "x")], now=T0, lease_until=T0) == set()
        assert await uow.inbound.record("zalo", [("1", "z")], now=T0, lease_until=T0) == {"1"}
        await uow.inbound.finish("telegram", ["2"], now=T0)
        await uow.inbound.extend("telegram", ["3"], lease_until=later + LEASE)
        await uow.commit()
    async with any_uow_factory() as uow:
        none_yet = await uow.inbound.claim_unfinished(
            "telegram", now=T0, lease_until=later, limit=10
        )
        expired = await uow.inbound.claim_unfinished(
            "telegram", now=later, lease_until=later + LEASE, limit=10
        )
        everything = await uow.inbound.claim_unfinished(
            "telegram", now=later, lease_until=later + LEASE, limit=10, expired_only=False
        )
        await uow.commit()
    assert none_yet == []
    assert [(u.key, u.payload, u.attempts) for u in expired] == [("1", "a", 2)]
    assert [(u.key, u.attempts) for u in everything] == [("1", 3), ("3", 2)]
    async with any_uow_factory() as uow:
        await uow.inbound.finish("telegram", ["1"], now=later, state="failed")
        assert await uow.inbound.purge(finished_before=later) == 1  # "2", done at T0
        assert await uow.inbound.purge(finished_before=later + LEASE) == 1  # "1", failed
        assert await uow.inbound.record(
            "telegram", [("2", "again")], now=later, lease_until=later
        ) == {"2"}
        await uow.commit()


# --------------------------------------------------------------------------- operator figures


async def read_figures(factory: UnitOfWorkFactory, now: datetime) -> OperationalFigures:
    """The operator's figures, read as `motcua run` reads them (a report unit of work)."""
    if isinstance(factory, SqlUnitOfWorkFactory):
        factory = SqlUnitOfWorkFactory.for_reports(factory.engine)
    async with factory() as uow:
        return await uow.figures.read(now)


async def test_operator_figures(any_uow_factory: UnitOfWorkFactory) -> None:
    empty = await read_figures(any_uow_factory, T0)
    assert empty.outbox_by_state == {state.value: 0 for state in OutboxState}
    assert (empty.oldest_waiting_age, empty.zalo_token_age) == (None, None)
    assert (empty.surveys_sent, empty.surveys_answered) == (0, 0)
    async with any_uow_factory() as uow:
        user = await new_user(uow)
        await uow.outbox.enqueue_many(
            [notice(user, 1), notice(user, 2, kind=NoticeKind.SURVEY_INVITATION)],
            now=T0 - timedelta(minutes=5),
        )
        await uow.zalo_tokens.seed("a", "r", now=T0 - timedelta(hours=1))
        await uow.commit()
    queue = OutboxDeliveryQueue(any_uow_factory)
    claim = {"limits": FAST, "lease": LEASE, "horizon": 1.0, "lead": 0.0, "limit": 10}
    [first] = await queue.claim(now=T0, token="a", **claim)  # type: ignore[arg-type]
    await queue.settle([DeliveryOutcome(first, OutboxState.SENT)], now=T0)
    [second] = await queue.claim(now=T0, token="b", **claim)  # type: ignore[arg-type]
    await queue.settle([DeliveryOutcome(second, OutboxState.SENT)], now=T0)
    figures = await read_figures(any_uow_factory, T0)
    assert figures.outbox_by_state["sent"] == 2
    assert figures.oldest_waiting_age is None
    assert figures.surveys_sent == 1
    assert figures.zalo_token_age == 3600.0
    async with any_uow_factory() as uow:
        await uow.outbox.enqueue(notice(user, 3), now=T0 - timedelta(seconds=30))
        await uow.commit()
    assert (await read_figures(any_uow_factory, T0)).oldest_waiting_age == 30.0
