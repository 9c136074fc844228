"""Proving ownership: PIN, shared phone number, limits, my dossiers, forget-me.

On the in-memory twin of the storage; the tests marked ``sql`` check on SQLite and
PostgreSQL what the verification writes, what an erasure deletes, and the outbox's rows.
"""

from __future__ import annotations

import pytest

from bot.payloads import Action
from tests.core.conftest import World


@pytest.mark.sql  # the ownership and the subscription, written together
async def test_pin_verification_reveals_details_and_subscribes(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["ready"]
    await citizen.says(sample.code)
    screen = await citizen.presses(Action.VERIFY)
    assert "mã PIN" in screen
    screen = await citizen.says(sample.pin)
    assert "Đã xác minh" in screen
    assert "Người nộp:" in screen
    assert "Nơi nhận kết quả:" in screen or "bưu chính công ích" in screen
    assert "Tắt thông báo" in screen


async def test_wrong_pin_is_refused_politely(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    wrong = "999999" if sample.pin != "999999" else "111111"
    screen = await citizen.says(wrong)
    assert "Mã PIN không đúng" in screen
    assert "Người nộp" not in screen


async def test_pin_attempts_are_limited_per_dossier_across_users(world: World) -> None:
    sample = world.samples["processing"]
    wrong = "999999" if sample.pin != "999999" else "111111"
    attempts = world.settings.pin_attempts_per_dossier
    for n in range(attempts):
        citizen = world.citizen(f"guesser-{n}")
        await citizen.says(sample.code)
        await citizen.presses(Action.VERIFY)
        await citizen.says(wrong)
    owner = world.citizen("real-owner")
    await owner.says(sample.code)
    screen = await owner.presses(Action.VERIFY)
    assert "tạm dừng" in screen and "phút" in screen
    assert await owner.says(sample.pin) == screen  # the PIN is not even tried


async def test_phone_verification(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["supplement_required"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    await citizen.presses(Action.CONTACT)
    screen = await citizen.says(sample.phone)
    assert "Đã xác minh" in screen
    assert "Nội dung cần bổ sung:" in screen


async def test_my_dossiers_lists_confirmed_ones(world: World) -> None:
    citizen = world.citizen()
    assert "chưa xác minh hồ sơ nào" in await citizen.says("/mine")
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    await citizen.says(sample.pin)
    screen = await citizen.says("/mine")
    assert sample.code in screen and "🔔" in screen
    screen = await citizen.presses(Action.UNSUBSCRIBE_ALL)
    assert "Đã tắt thông báo cho 1 hồ sơ" in screen


@pytest.mark.sql  # the erasure's cascade
async def test_forget_me_erases_everything_after_confirmation(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says("/lang en")
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    await citizen.says(sample.pin)
    screen = await citizen.says("/forget")
    assert "erases everything" in screen
    screen = await citizen.presses(Action.FORGET_YES)
    assert "erased" in screen
    # back to a stranger: default language, no confirmed dossiers, no details
    screen = await citizen.says("/mine")
    assert "chưa xác minh hồ sơ nào" in screen
    screen = await citizen.says(sample.code)
    assert "Người nộp" not in screen


async def test_forget_me_can_be_cancelled(world: World) -> None:
    citizen = world.citizen()
    await citizen.says("/lang en")
    await citizen.says("/forget")
    screen = await citizen.presses(Action.FORGET_NO)
    assert "Nothing was erased" in screen
    assert "Status" in await citizen.says(world.samples["processing"].code)


async def test_deep_link_verifies_in_one_tap(world: World) -> None:
    from bot.deeplink import make_payload

    sample = world.samples["ready"]
    payload = make_payload(sample.code, "test-deep-link-secret")
    screen = await world.citizen().says(f"/start {payload}")
    assert "Đã xác minh" in screen and "Người nộp:" in screen


async def test_forged_deep_link_is_refused(world: World) -> None:
    from bot.deeplink import make_payload

    payload = make_payload(world.samples["ready"].code, "someone-elses-secret")
    screen = await world.citizen().says(f"/start {payload}")
    assert "Đường dẫn không hợp lệ" in screen
    assert "Người nộp" not in screen


async def test_stopping_notices_also_cancels_queued_reminders(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.ports import Notice
    from bot.storage.probe import outbox_rows

    citizen = world.citizen()
    sample = world.samples["ready"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    await citizen.says(sample.pin)
    now = datetime.now(UTC)
    async with world.runtime.uow_factory() as uow:
        user = await uow.users.get_or_create("console", "citizen-1", language="vi", now=now)
        reminder = Notice(
            user_id=user.id,
            kind="reminder",
            dedup_key=f"test-reminder:{sample.code}",
            dossier_code=sample.code,
            not_before=now + timedelta(days=3),
        )
        assert await uow.outbox.enqueue(reminder, now=now)
        await uow.commit()
    screen = await citizen.presses(Action.UNSUBSCRIBE)
    assert "🔔 Nhận thông báo" in screen  # the button now offers to start again
    assert [row["state"] for row in await outbox_rows(world.runtime.uow_factory)] == ["cancelled"]


async def test_confirmation_says_each_thing_once(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    screen = await citizen.says(sample.pin)
    assert screen.count("Đã xác minh") == 1
    assert screen.count("sẽ nhận") == 1  # "you will be told" once, not in intro and footer


async def test_my_dossiers_shows_no_bell_on_a_returned_dossier(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["returned"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    screen = await citizen.says(sample.pin)
    assert "sẽ nhận" not in screen  # nothing more will be sent about it
    screen = await citizen.says("/mine")
    line = next(line for line in screen.splitlines() if sample.code in line)
    assert "🔔" not in line and "🔕" not in line
