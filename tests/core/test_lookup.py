"""A citizen looks up dossiers through the core, end to end against the simulator.

On the in-memory twin of the storage; the tests marked ``sql`` check the lookup's one
transaction (user, reservations, context) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.status import Status
from bot.payloads import Action
from tests.core.conftest import World


async def test_start_greets_in_vietnamese_and_explains_the_code(world: World) -> None:
    screen = await world.citizen().says("/start")
    assert "Xin chào" in screen
    assert "000.00.53.H48-220921-0099" in screen
    assert "[1]" in screen  # buttons shown as numbered choices


@pytest.mark.sql
async def test_lookup_shows_status_agency_procedure_and_date_but_no_details(world: World) -> None:
    sample = world.samples["processing"]
    screen = await world.citizen().says(f"Hồ sơ {sample.code} của tôi xong chưa?")
    assert f"Hồ sơ {sample.code}" in screen
    assert "Tình trạng: Đang xử lý" in screen
    assert "Thủ tục:" in screen and "Cơ quan:" in screen
    assert "Ngày hẹn trả:" in screen
    assert "Người nộp" not in screen  # name only for the verified owner (design §6)
    assert "xác minh" in screen


async def test_code_typed_sloppily_is_understood(world: World) -> None:
    sample = world.samples["ready"]
    sloppy = sample.code.lower().replace("-", " - ") + "."
    screen = await world.citizen().says(sloppy)
    assert f"Hồ sơ {sample.code}" in screen
    assert "Đã có kết quả, chờ trả" in screen


@pytest.mark.sql  # several reservations in the one transaction
async def test_several_codes_in_one_message_each_get_an_answer(world: World) -> None:
    a, b = world.samples["processing"], world.samples["returned"]
    screen = await world.citizen().says(f"{a.code} và {b.code}")
    assert f"Hồ sơ {a.code}" in screen and f"Hồ sơ {b.code}" in screen


async def test_unknown_but_well_formed_code_is_not_found(world: World) -> None:
    screen = await world.citizen().says("000.00.53.H48-220921-9999")
    assert "Không tìm thấy hồ sơ mã 000.00.53.H48-220921-9999" in screen


async def test_english_after_switching_language(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("/lang en")
    assert "English" in screen
    screen = await citizen.says(world.samples["processing"].code)
    assert "Status: Being processed" in screen
    assert "Appointment date:" in screen


async def test_language_buttons(world: World) -> None:
    citizen = world.citizen()
    await citizen.says("/lang")
    screen = await citizen.presses(Action.LANGUAGE)  # the first button is Vietnamese
    assert "tiếng Việt" in screen


@pytest.mark.sql
async def test_lookups_are_rate_limited_per_user_with_a_time_to_wait(world: World) -> None:
    citizen = world.citizen("walker")
    code = world.samples["processing"].code
    limit = world.settings.lookup_limit_per_minute
    for _ in range(limit):
        assert "Tình trạng" in await citizen.says(code)
    screen = await citizen.says(code)
    assert "Vui lòng thử lại sau" in screen and "phút" in screen
    # another citizen is not affected
    assert "Tình trạng" in await world.citizen("neighbour").says(code)


async def test_refresh_button_updates_after_the_status_changes(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    world.simulator.state.move(sample.code, Status.READY, datetime.now(UTC))
    screen = await citizen.presses(Action.LOOKUP)
    assert "Đã có kết quả, chờ trả" in screen
