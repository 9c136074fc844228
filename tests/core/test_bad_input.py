"""Every kind of bad input ends in a short polite answer, never a traceback or silence.

On the in-memory twin of the storage, but for SQL-looking text, which goes to SQLite and
PostgreSQL (marked ``sql``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.core import APOLOGY
from bot.i18n import gettext_for
from bot.messages import Attachment, Incoming
from tests.core.conftest import Citizen, World, settings_for
from tests.support.fake_caseapi import Misbehaviour, broken_case_api
from tests.support.runtime import open_chat_runtime
from tests.support.servers import serve_in_loop

APOLOGIES = {gettext_for(lang)(APOLOGY) for lang in ("vi", "en")}


def polite(screen: str) -> bool:
    return (
        bool(screen.strip())
        and "Traceback" not in screen
        and not any(a in screen for a in APOLOGIES)
    )


async def test_empty_message(world: World) -> None:
    screen = await world.citizen().says("   ")
    assert polite(screen) and "không có nội dung" in screen


async def test_ten_thousand_characters(world: World) -> None:
    started = time.perf_counter()
    screen = await world.citizen().says("á" * 10_000)
    assert time.perf_counter() - started < 2
    assert polite(screen) and "quá dài" in screen


async def test_emoji_rtl_and_zero_width_characters(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("🙂😀 مرحبا \u200f\u202e שלום")
    assert polite(screen) and "mã hồ sơ" in screen
    screen = await citizen.says("🙂🙏 مرحبا \u200f\u202e שלום")  # 🙏: a thank-you
    assert polite(screen) and "không có gì" in screen
    code = world.samples["processing"].code
    hidden = "\u200b".join(code) + "\ufeff"
    screen = await citizen.says(hidden)
    assert f"Hồ sơ {code}" in screen


@pytest.mark.sql
async def test_sql_looking_text(world: World) -> None:
    screen = await world.citizen().says("'; DROP TABLE chat_users; --")
    assert polite(screen)
    # and the bot still works for the next citizen
    assert "Tình trạng" in await world.citizen("next").says(world.samples["processing"].code)


async def test_malformed_code_shows_the_expected_shape(world: World) -> None:
    screen = await world.citizen().says("000.00.53.H48-221399-0099")
    assert "chưa đúng định dạng" in screen
    assert "000.00.53.H48-220921-0099" in screen


async def test_unknown_command(world: World) -> None:
    screen = await world.citizen().says("/xyz")
    assert "Không có lệnh /xyz" in screen


@pytest.mark.parametrize(
    "payload",
    [
        "lk:not-a-code",
        "zz:000.00.53.H48-220921-0099",
        "garbage",
        "x" * 300,
        "sb:000.00.53.H48-220921-0099",
    ],
)
async def test_stale_or_forged_button_payload(world: World, payload: str) -> None:
    response = await world.runtime.core(Incoming("console", "u1", payload=payload))
    assert response.notice and "hết hiệu lực" in response.notice
    assert not any(a in (r.text for r in response.replies) for a in APOLOGIES)


async def test_pictures_and_foreign_contacts(world: World) -> None:
    core = world.runtime.core
    picture = await core(Incoming("console", "u1", attachment=Attachment.IMAGE))
    assert "hình ảnh" in picture.replies[0].text
    contact = await core(Incoming("console", "u1", attachment=Attachment.FOREIGN_CONTACT))
    assert "của chính ông/bà" in contact.replies[0].text


@pytest.fixture
async def broken(storage_url: str) -> AsyncIterator[tuple[Misbehaviour, Citizen]]:
    behaviour = Misbehaviour()
    async with serve_in_loop(broken_case_api(behaviour)) as server:
        settings = settings_for(storage_url, server.url, "t", case_api_chat_timeout=1.0)
        async with open_chat_runtime(settings) as runtime:
            import io

            from bot.channels.console import ConsoleChat

            screen = io.StringIO()
            yield behaviour, Citizen(ConsoleChat(runtime.core, screen, width=200), screen)


@pytest.mark.parametrize("mode", ["500", "503", "html", "wrong_json", "hang"])
async def test_case_system_failures_get_a_busy_answer_quickly(
    broken: tuple[Misbehaviour, Citizen], mode: str
) -> None:
    behaviour, citizen = broken
    behaviour.mode = mode
    started = time.perf_counter()
    screen = await citizen.says("000.00.53.H48-220921-0099")
    assert time.perf_counter() - started < 3
    assert "Hệ thống hồ sơ đang bận" in screen
    assert polite(screen)
