"""One survey per dossier, enforced by the database even when two taps race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ports import SurveyAlreadyStarted
from bot.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from surveys.model import DossierFacts

NOW = datetime(2026, 10, 5, 3, 0, tzinfo=UTC)
FACTS = DossierFacts(
    code="000.06.15.H12-261001-0004",
    agency_code="000.06.15.H12",
    agency_name="UBND xã Long Hòa",
    procedure_code="1.001193",
    procedure_name="Đăng ký khai sinh",
    field="Hộ tịch",
)


async def test_a_second_start_for_the_same_dossier_is_refused(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner = await uow.users.get_or_create("telegram", "1", language="vi", now=NOW)
        co_owner = await uow.users.get_or_create("zalo", "2", language="vi", now=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        await _start(uow, owner.id)
        await uow.commit()
    with pytest.raises(SurveyAlreadyStarted):
        async with uow_factory() as uow:
            await _start(uow, co_owner.id)
    async with uow_factory() as uow:
        assert await uow.surveys.response_exists(FACTS.code)
        session = await uow.surveys.session(FACTS.code)
        assert session is not None
        assert session.user_id == owner.id


async def _start(uow: SqlUnitOfWork, user_id: int) -> None:
    await uow.surveys.start(
        FACTS,
        survey_id="default",
        user_id=user_id,
        now=NOW,
        expires_at=NOW + timedelta(days=7),
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
