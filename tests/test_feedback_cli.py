"""``motcua feedback`` and ``motcua unanswered``: newest first, filters, three formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cli import build_parser
from bot.feedback_cli import parse_since
from bot.ports import SystemClock
from bot.settings import Settings
from bot.storage.uow import SqlUnitOfWorkFactory

AGENCY = "000.00.15.H12"


async def _seed(factory: SqlUnitOfWorkFactory) -> datetime:
    now = SystemClock().now()
    async with factory() as uow:
        for days, agency, kind, text in (
            (10, AGENCY, "feedback", "Phòng chờ nóng, nên lắp quạt"),
            (2, "000.01.15.H12", "complaint", "Cán bộ gọi số •••• ••• ••• không nghe"),
            (1, AGENCY, "feedback", "Cán bộ tận tình, " + "rất " * 30 + "tốt"),
        ):
            await uow.feedback.add(
                channel="zalo",
                user_id=None,
                agency_code=agency,
                procedure_code=None,
                kind=kind,
                text=text,
                language="vi",
                now=now - timedelta(days=days),
            )
        await uow.feedback.add_unanswered(
            channel="telegram", language="en", agency_code=None, text="tell me a joke", now=now
        )
        await uow.commit()
    return now


async def _run(database_url: str, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return int(await args.run(args, Settings(database_url=database_url)))


async def test_feedback_as_table_csv_and_json(
    uow_factory: SqlUnitOfWorkFactory, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed(uow_factory)

    assert await _run(database_url, "feedback") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["id", "created_at", "channel"]
    assert [line.split()[0] for line in table[1:]] == ["3", "2", "1"]  # newest first
    assert table[1].endswith("…")  # long texts are cut in the table only

    assert await _run(database_url, "feedback", "--agency", AGENCY, "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["3", "1"]
    assert rows[0]["text"].endswith("rất tốt")

    assert await _run(database_url, "feedback", "--since", "3d", "--format", "json") == 0
    items = json.loads(capsys.readouterr().out)
    assert [(i["id"], i["kind"]) for i in items] == [(3, "feedback"), (2, "complaint")]
    assert items[1]["text"] == "Cán bộ gọi số •••• ••• ••• không nghe"
    assert items[0]["created_at"].endswith("+07:00")  # shown in local time

    assert await _run(database_url, "feedback", "--status", "closed") == 0
    assert capsys.readouterr().out == "(nothing)\n"


async def test_unanswered_and_a_bad_since(
    uow_factory: SqlUnitOfWorkFactory, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed(uow_factory)
    assert await _run(database_url, "unanswered", "--format", "json") == 0
    [item] = json.loads(capsys.readouterr().out)
    assert (item["channel"], item["language"], item["text"]) == ("telegram", "en", "tell me a joke")
    assert await _run(database_url, "unanswered", "--since", "yesterday") == 2
    assert "--since" in capsys.readouterr().out


def test_since_accepts_days_hours_and_local_dates() -> None:
    now = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    assert parse_since("7d", now=now, tz=tz) == now - timedelta(days=7)
    assert parse_since("24h", now=now, tz=tz) == now - timedelta(hours=24)
    assert parse_since("2026-11-30", now=now, tz=tz) == datetime(2026, 11, 29, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="since"):
        parse_since("last week", now=now, tz=tz)
