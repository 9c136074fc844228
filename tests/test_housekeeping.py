"""Housekeeping: each purge removes exactly what is stale and keeps what is still in use; the
``motcua housekeep`` command prints its counts; ``motcua run``'s loop logs them."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import build_parser
from bot.housekeeping import housekeep, run_periodically
from bot.ports import Bucket, Notice, SystemClock
from bot.settings import Settings
from bot.storage import probe
from bot.storage.uow import SqlUnitOfWorkFactory
from surveys.model import DossierFacts
from tests.storage.helpers import FakeClock

NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "000.00.53.H48-250314-{:04d}"
NOTHING = {
    "rate_limits": 0,
    "conversations": 0,
    "survey_sessions": 0,
    "outbox": 0,
    "unanswered": 0,
    "staff_sessions": 0,
}


async def _user(factory: SqlUnitOfWorkFactory, channel_user_id: str) -> int:
    async with factory() as uow:
        user = await uow.users.get_or_create(
            "telegram", channel_user_id, language="vi", now=NOW - timedelta(days=90)
        )
        await uow.commit()
    return user.id


async def _housekeep(factory: SqlUnitOfWorkFactory, now: datetime = NOW) -> dict[str, int]:
    return await housekeep(factory, FakeClock(now))


# ---------------------------------------------------------------- rate limits


async def test_limits_at_rest_go_and_limits_in_force_stay(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    lookups = Bucket("lookup-h:old", capacity=60, period_seconds=3600)
    pins = Bucket("pin-d:yesterday", 5, 900, max_backoff_seconds=6 * 3600, rest_seconds=86400)
    minute = Bucket("lookup-m:now", capacity=10, period_seconds=60)
    async with uow_factory() as uow:
        # lookups two days ago: at rest long since; PINs tried yesterday evening: their
        # back-off is remembered for a day; a citizen looking up dossiers right now
        await uow.rate_limits.reserve([lookups], now=NOW - timedelta(days=2))
        await uow.rate_limits.reserve([pins], now=NOW - timedelta(hours=20))
        await uow.rate_limits.reserve([minute], now=NOW)
        await uow.commit()

    assert await _housekeep(uow_factory) == {**NOTHING, "rate_limits": 1}

    assert await probe.rate_limit_keys(uow_factory) == ["lookup-m:now", "pin-d:yesterday"]


# ---------------------------------------------------------------- conversations


async def test_expired_conversation_states_go_and_live_ones_stay(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    waiting, gone, left = [await _user(uow_factory, str(n)) for n in range(3)]
    async with uow_factory() as uow:
        await uow.conversations.set(
            waiting,
            "awaiting_proof",
            {"code": CODE.format(1)},
            expires_at=NOW + timedelta(minutes=5),
        )
        await uow.conversations.set(
            gone, "awaiting_proof", {"code": CODE.format(2)}, expires_at=NOW - timedelta(hours=3)
        )
        await uow.conversations.set(
            left, "awaiting_proof", {"code": CODE.format(3)}, expires_at=NOW
        )
        await uow.commit()

    assert await _housekeep(uow_factory) == {**NOTHING, "conversations": 2}

    async with uow_factory() as uow:
        state = await uow.conversations.get(waiting, now=NOW)
        assert state is not None and state.data == {"code": CODE.format(1)}
        assert await uow.conversations.purge_expired(NOW) == 0


# ---------------------------------------------------------------- survey sessions


def _facts(n: int) -> DossierFacts:
    return DossierFacts(
        code=CODE.format(n),
        agency_code="H48.53",
        agency_name="UBND phường Hải Châu",
        procedure_code="1.001",
        procedure_name="Đăng ký khai sinh",
        field="Hộ tịch",
    )


async def test_expired_survey_sessions_close_and_their_answers_stay(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory, "7")
    async with uow_factory() as uow:
        surveys = uow.surveys
        for n, expires_at in ((1, NOW + timedelta(days=1)), (2, NOW - timedelta(days=1))):
            await surveys.start(
                _facts(n),
                survey_id="one_stop",
                user_id=user,
                now=NOW - timedelta(days=3),
                expires_at=expires_at,
                tz=TZ,
            )
        await uow.commit()

    assert await _housekeep(uow_factory) == {**NOTHING, "survey_sessions": 1}

    async with uow_factory() as uow:
        surveys = uow.surveys
        assert await surveys.session(CODE.format(1)) is not None
        assert await surveys.session(CODE.format(2)) is None
        # The response stays filed: the dossier is not surveyed a second time.
        assert await surveys.response_exists(CODE.format(2))


# ---------------------------------------------------------------- outbox


async def _push(
    factory: SqlUnitOfWorkFactory, user: int, name: str, *, created: datetime, **values: Any
) -> None:
    """A push queued at `created`, then put in the state described by `values`."""
    async with factory() as uow:
        new = Notice(
            user_id=user,
            kind="test.notice",
            dedup_key=name,
            dossier_code=CODE.format(1),
            params={"n": 1},
        )
        assert await uow.outbox.enqueue(new, now=created)
        await uow.commit()
    if values:
        assert await probe.update_outbox(factory, values, dedup_key=name) == 1


async def test_old_finished_pushes_go_and_unfinished_ones_stay(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory, "9")
    old, recent = NOW - timedelta(days=45), NOW - timedelta(days=2)
    lease = {"lease_until": NOW + timedelta(minutes=1), "claim_token": "t"}
    pushes: dict[str, dict[str, Any]] = {
        # Finished more than 30 days ago: removed.
        "sent-old": {"created": old, "state": "sent", "sent_at": old + timedelta(minutes=1)},
        "dead-old": {"created": old, "state": "dead", "next_attempt_at": old},
        "cancelled-old": {"created": old, "state": "cancelled", "next_attempt_at": old},
        "expired-old": {"created": old, "state": "expired", "next_attempt_at": old},
        # Finished recently: kept, even when queued long ago (a reminder sent yesterday).
        "sent-recent": {"created": recent, "state": "sent", "sent_at": recent},
        "reminder-sent-yesterday": {
            "created": old,
            "state": "sent",
            "sent_at": NOW - timedelta(days=1),
        },
        "dead-recent": {"created": old, "state": "dead", "next_attempt_at": recent},
        # Not finished, however old: kept.
        "queued-old": {"created": old},
        "retrying-old": {"created": old, "state": "retrying", "next_attempt_at": old},
        "held-old": {"created": old, "state": "held"},
        "sending-old": {"created": old, "state": "sending", **lease},
    }
    for name, spec in pushes.items():
        await _push(uow_factory, user, name, **spec)

    assert await _housekeep(uow_factory) == {**NOTHING, "outbox": 4}

    left = [row["dedup_key"] for row in await probe.outbox_rows(uow_factory)]
    async with uow_factory() as uow:
        counts = await uow.outbox.counts()
    assert set(left) == set(pushes) - {"sent-old", "dead-old", "cancelled-old", "expired-old"}
    assert counts == {
        "queued": 1,
        "sending": 1,
        "retrying": 1,
        "held": 1,
        "sent": 2,
        "dead": 1,
        "cancelled": 0,
        "expired": 0,
    }
    # A shorter retention reaches the recent ones; the unfinished ones still stay.
    assert await housekeep(uow_factory, FakeClock(NOW), outbox_retention=timedelta(hours=1)) == {
        **NOTHING,
        "outbox": 3,
    }
    left = [row["dedup_key"] for row in await probe.outbox_rows(uow_factory)]
    assert sorted(left) == ["held-old", "queued-old", "retrying-old", "sending-old"]


async def test_unanswered_messages_go_after_thirty_days(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for days in (31, 29, 1):
            await uow.feedback.add_unanswered(
                channel="telegram",
                language="vi",
                agency_code=None,
                text=f"{days} ngày",
                now=NOW - timedelta(days=days),
            )
        await uow.commit()
    assert await _housekeep(uow_factory) == {**NOTHING, "unanswered": 1}
    async with uow_factory() as uow:
        kept = await uow.feedback.list_unanswered()
    assert [m.text for m in kept] == ["1 ngày", "29 ngày"]


# ---------------------------------------------------------------- officials' sessions


async def test_expired_staff_sessions_go_and_live_ones_stay(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        account = await uow.staff.add(
            "an", password_hash="x", role="viewer", agencies=(), now=NOW - timedelta(days=9)
        )
        assert account is not None
        for token, expires_at in (
            ("live", NOW + timedelta(hours=1)),
            ("expired", NOW - timedelta(hours=1)),
            ("ends-now", NOW),
        ):
            await uow.staff.open_session(
                account.id, token, now=NOW - timedelta(hours=8), expires_at=expires_at
            )
        await uow.commit()

    assert await _housekeep(uow_factory) == {**NOTHING, "staff_sessions": 2}

    async with uow_factory() as uow:
        assert await uow.staff.session_account("live", now=NOW) == account
        # Nothing expired is left: the rows themselves went, not only their use.
        assert await uow.staff.purge_sessions(now=NOW) == 0


async def test_nothing_to_do_is_all_zeros(uow_factory: SqlUnitOfWorkFactory) -> None:
    assert await _housekeep(uow_factory) == NOTHING


# ---------------------------------------------------------------- motcua housekeep / run


async def test_the_command_prints_its_counts_on_one_line(
    uow_factory: SqlUnitOfWorkFactory, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = SystemClock().now()
    user = await _user(uow_factory, "11")
    await _push(
        uow_factory,
        user,
        "sent-long-ago",
        created=now - timedelta(days=60),
        state="sent",
        sent_at=now - timedelta(days=59),
    )
    await _push(uow_factory, user, "queued-long-ago", created=now - timedelta(days=60))
    async with uow_factory() as uow:
        await uow.conversations.set(user, "awaiting_proof", {}, expires_at=now - timedelta(hours=1))
        await uow.feedback.add_unanswered(
            channel="zalo", language="vi", agency_code=None, text="?", now=now - timedelta(days=31)
        )
        await uow.commit()

    args = build_parser().parse_args(["housekeep"])
    assert await args.run(args, Settings(database_url=database_url)) == 0
    assert capsys.readouterr().out == (
        "housekeeping removed: rate_limits=0 conversations=1 survey_sessions=0 outbox=1 "
        "unanswered=1 staff_sessions=0\n"
    )

    args = build_parser().parse_args(["housekeep", "--outbox-days", "1"])
    assert await args.run(args, Settings(database_url=database_url)) == 0
    assert capsys.readouterr().out == (
        "housekeeping removed: rate_limits=0 conversations=0 survey_sessions=0 outbox=0 "
        "unanswered=0 staff_sessions=0\n"
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["housekeep", "--outbox-days", "0"])
    assert "not a positive number of days: '0'" in capsys.readouterr().err


class _Rounds(logging.Handler):
    """Collects the housekeeping log lines; `two` is set once two rounds were logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.two = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if len(self.lines) >= 2:
            self.two.set()


async def test_the_periodic_task_logs_each_round_and_stops_when_cancelled(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    user = await _user(uow_factory, "12")
    async with uow_factory() as uow:
        await uow.conversations.set(user, "awaiting_proof", {}, expires_at=NOW)
        await uow.commit()
    logger = logging.getLogger("bot.housekeeping")
    rounds = _Rounds()
    logger.addHandler(rounds)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        task = asyncio.create_task(
            run_periodically(uow_factory, FakeClock(NOW), every=timedelta(milliseconds=20))
        )
        async with asyncio.timeout(10):
            await rounds.two.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        logger.removeHandler(rounds)
        logger.setLevel(level)

    assert rounds.lines[:2] == [
        "housekeeping removed: rate_limits=0 conversations=1 survey_sessions=0 outbox=0 "
        "unanswered=0 staff_sessions=0",
        "housekeeping removed: rate_limits=0 conversations=0 survey_sessions=0 outbox=0 "
        "unanswered=0 staff_sessions=0",
    ]
