"""The benchmarks' set-up (`bot.storage.bulk`) on both databases: rows loaded in bulk are
what the repositories then read, the id sequence follows the ids given, tables empty."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.storage import bulk
from bot.storage.engine import DatabaseEngine
from bot.storage.probe import row_count
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.storage.watch import snapshot_row
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
from tests.storage.helpers import T0

CODE = "000.00.15.H12-250310-{:04d}"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _snapshot(n: int) -> Snapshot:
    return Snapshot(
        code=CODE.format(n),
        status=Status.PROCESSING,
        status_changed_at=T0,
        agency_code="000.00.15.H12",
        agency_name="UBND phường Bến Nghé",
        procedure_code="1.001",
        procedure_name="Đăng ký khai sinh",
        field="Hộ tịch",
        received_at=T0 - timedelta(days=2),
        due_at=T0 + timedelta(days=3),
        original_due_at=None,
        returned_at=None,
        delivery="counter",
    )


async def test_users_subscriptions_and_snapshots_load_as_the_watcher_reads_them(
    engine: DatabaseEngine,
) -> None:
    users = [
        {"id": i, "channel": "telegram", "channel_user_id": str(i), "language": "vi",
         "blocked": False, "created_at": T0, "last_seen_at": T0}
        for i in (1, 2, 3)
    ]  # fmt: skip
    await bulk.insert_rows(engine, "chat_users", users, chunk=2)
    await bulk.insert_rows(
        engine,
        "subscriptions",
        [{"user_id": i, "dossier_code": CODE.format(i), "active": True, "created_at": T0}
         for i in (1, 2, 3)],
    )  # fmt: skip
    await bulk.insert_rows(
        engine, "dossier_snapshots", [snapshot_row(_snapshot(i), now=T0) for i in (1, 2, 3)]
    )
    await bulk.analyze(engine)
    async with SqlUnitOfWorkFactory(engine)() as uow:
        found = await uow.subscriptions.recipients_of([CODE.format(2)])
        snapshots = await uow.watch.snapshots([CODE.format(n) for n in (1, 2, 3)])
    assert [r.user_id for r in found[CODE.format(2)]] == [2]
    assert snapshots[CODE.format(3)] == _snapshot(3)

    await bulk.empty_tables(engine, "subscriptions", "dossier_snapshots", "chat_users")
    for table in ("chat_users", "subscriptions", "dossier_snapshots"):
        assert await row_count(engine, table) == 0


async def test_copied_survey_responses_count_and_their_ids_move_on(
    engine: DatabaseEngine,
) -> None:
    columns = (
        "id", "dossier_key", "survey_id", "agency_code", "agency_name", "procedure_code",
        "procedure_name", "field", "period_month",
    )  # fmt: skip
    records = [
        (n, f"{n:064x}", "default", "000.00.15.H12", "UBND", "1.001", "Khai sinh", "Hộ tịch",
         202503)
        for n in (1, 2)
    ]  # fmt: skip
    await bulk.copy_records(engine, "survey_responses", columns, records)
    answers = ("response_id", "question_id", "kind", "score", "agency_code", "procedure_code",
               "field", "period_month")  # fmt: skip
    await bulk.copy_records(
        engine,
        "survey_answers",
        answers,
        [(n, "quick", "rating3", 3, "000.00.15.H12", "1.001", "Hộ tịch", 202503) for n in (1, 2)],
    )
    await bulk.analyze(engine, "survey_responses", "survey_answers", vacuum=True)
    assert await row_count(engine, "survey_answers") == 2
    # A response filed afterwards, as the chat files one, takes the next id.
    facts = DossierFacts(CODE.format(9), "000.00.15.H12", "UBND", "1.001", "Khai sinh", "Hộ tịch")
    async with SqlUnitOfWorkFactory(engine)() as uow:
        user = await uow.users.get_or_create("telegram", "9", language="vi", now=T0)
        key = await uow.surveys.start(
            facts, survey_id=default_catalog().default.id, user_id=user.id, now=T0,
            expires_at=T0, tz=TZ,
        )  # fmt: skip
        await uow.commit()
    assert key.response_id == 3
