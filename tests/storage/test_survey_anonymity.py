"""Survey answers are anonymous for real: no dossier code, no chat user, no timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import SurveyAlreadyStarted
from bot.storage.engine import create_engine
from surveys.definitions import default_catalog
from surveys.model import DossierFacts, dossier_key
from surveys.storage.repository import SqlSurveyRepository as SurveyRepository
from surveys.storage.tables import survey_answers, survey_responses, survey_secrets
from tests.storage.test_migrations import _run_alembic

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)
CODE = "000.00.15.H12-261001-0042"
FACTS = DossierFacts(CODE, "H12", "UBND quận 1", "1.001193", "Đăng ký khai sinh", "Hộ tịch")


async def _chat_user(engine: AsyncEngine) -> int:
    from bot.storage.uow import SqlUnitOfWorkFactory

    async with SqlUnitOfWorkFactory(engine)() as uow:
        user = await uow.users.get_or_create("telegram", "777", language="vi", now=NOW)
        await uow.commit()
    return user.id


async def test_a_response_keeps_neither_the_code_nor_the_user(engine: AsyncEngine) -> None:
    user_id = await _chat_user(engine)
    definition = default_catalog().default
    async with engine.begin() as conn:
        repo = SurveyRepository(conn)
        key = await repo.start(
            FACTS,
            survey_id="default",
            user_id=user_id,
            now=NOW,
            expires_at=NOW + timedelta(days=7),
            tz=TZ,
        )
        await repo.save_answer(key, definition.question("quick"), 3, now=NOW)
        await repo.close(CODE)  # the survey ends: the session (user link) goes
    async with engine.connect() as conn:
        responses = (await conn.execute(select(survey_responses))).mappings().all()
        answers = (await conn.execute(select(survey_answers))).mappings().all()
        secret = (await conn.execute(select(survey_secrets.c.secret))).scalar_one()
        stored = [dict(row) for row in (*responses, *answers)]
        assert responses[0]["dossier_key"] == dossier_key(secret, CODE)
        assert len(secret) == 64
        for row in stored:
            for value in row.values():
                assert CODE not in str(value)
            assert not any(isinstance(value, datetime) for value in row.values())
            assert "user_id" not in row
        assert responses[0]["period_month"] == 202610
        # One response per dossier still holds.
        repo = SurveyRepository(conn)
        assert await repo.response_exists(CODE)
        assert not await repo.response_exists(CODE.replace("0042", "0043"))
    async with engine.begin() as conn:
        with pytest.raises(SurveyAlreadyStarted):
            await SurveyRepository(conn).start(
                FACTS,
                survey_id="default",
                user_id=user_id,
                now=NOW,
                expires_at=NOW + timedelta(days=7),
                tz=TZ,
            )


async def test_the_migration_hashes_existing_codes_and_drops_the_times(
    empty_database_url: str,
) -> None:
    await _run_alembic(
        empty_database_url, lambda config: command.upgrade(config, "0007_one_history")
    )
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO survey_responses (id, dossier_code, survey_id, agency_code, "
                    "agency_name, procedure_code, procedure_name, field, period_month, started_at) "
                    "VALUES (1, :code, 'default', 'H12', 'UBND', '1.0', 'Khai sinh', 'Hộ tịch', "
                    "202610, :at)"
                ),
                {"code": CODE, "at": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO survey_answers (response_id, question_id, kind, score, "
                    "agency_code, procedure_code, field, period_month, answered_at) "
                    "VALUES (1, 'quick', 'rating3', 3, 'H12', '1.0', 'Hộ tịch', 202610, :at)"
                ),
                {"at": NOW},
            )
        await _run_alembic(empty_database_url, lambda config: command.upgrade(config, "head"))
        async with engine.connect() as conn:
            secret = (await conn.execute(select(survey_secrets.c.secret))).scalar_one()
            key = (await conn.execute(select(survey_responses.c.dossier_key))).scalar_one()
            assert key == dossier_key(secret, CODE)
            score = (await conn.execute(select(survey_answers.c.score))).scalar_one()
            assert score == 3  # the answers survive the migration

            def columns(sync: object) -> dict[str, set[str]]:
                inspector = inspect(sync)
                return {
                    table: {c["name"] for c in inspector.get_columns(table)}
                    for table in ("survey_responses", "survey_answers")
                }

            found = await conn.run_sync(columns)
        assert "dossier_code" not in found["survey_responses"]
        assert "started_at" not in found["survey_responses"]
        assert "answered_at" not in found["survey_answers"]
    finally:
        await engine.dispose()
