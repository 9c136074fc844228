"""The privacy notice (Decree 13/2023/NĐ-CP): at first contact, on /privacy, when a phone
number is asked for, and in what /forget says it erases and keeps."""

from __future__ import annotations

from bot.handlers.privacy import NOTICE_RETENTION_DAYS
from bot.housekeeping import OUTBOX_RETENTION
from bot.payloads import Action
from tests.core.conftest import World

SHORT = "Trợ lý chỉ lưu những gì cần"


async def test_first_contact_carries_the_short_notice_once(world: World) -> None:
    citizen = world.citizen("first-timer")
    first = await citizen.says(world.samples["processing"].code)
    assert first.count(SHORT) == 1 and "/privacy" in first
    again = await citizen.says(world.samples["processing"].code)
    assert SHORT not in again


async def test_first_contact_by_any_message(world: World) -> None:
    assert SHORT in await world.citizen("hello").says("xin chào")
    assert SHORT not in await world.citizen("hello").says("xin chào")


async def test_start_carries_it_once(world: World) -> None:
    screen = await world.citizen("starter").says("/start")
    assert screen.count(SHORT) == 1
    assert "/privacy" in await world.citizen("starter").says("/help")


async def test_privacy_says_what_why_how_long_who_and_how_to_erase(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("/privacy")
    assert "Nghị định 13/2023/NĐ-CP" in screen
    assert "số điện thoại" in screen and "ZNS" in screen  # what, and why
    assert "Thời gian lưu" in screen and "30 ngày" in screen and "7 ngày" in screen
    assert "Ai được xem" in screen and "Bộ phận Một cửa" in screen
    assert "mã PIN" in screen  # not kept
    assert "/forget" in screen
    assert "giới hạn số lần tra cứu" in screen and "không bị xóa" in screen  # limits stay
    await citizen.says("/lang en")
    english = await citizen.says("/privacy")
    assert "How long" in english and "Who sees it" in english and "30 days" in english


async def test_the_phone_prompt_says_why_and_what_is_kept(world: World) -> None:
    citizen = world.citizen()
    await citizen.says(world.samples["processing"].code)
    screen = await citizen.presses(Action.VERIFY)
    assert "chỉ dùng để đối chiếu" in screen
    assert "được lưu kèm hồ sơ" in screen and "/forget" in screen
    assert "Mã PIN không bao giờ được lưu" in screen


async def test_forget_names_the_phone_and_the_survey_answers(world: World) -> None:
    screen = await world.citizen().says("/forget")
    assert "số điện thoại đã chia sẻ" in screen
    assert "câu trả lời khảo sát đã gửi vẫn được giữ lại" in screen.lower()
    assert "không thể lần ra ông/bà" in screen


def test_the_stated_retention_is_the_housekeeping_one() -> None:
    assert OUTBOX_RETENTION.days == NOTICE_RETENTION_DAYS
