"""Proving a dossier is yours on Zalo: the receipt PIN, or the phone shared through Zalo."""

from __future__ import annotations

import pytest

from bot.channels.zalo.inbound import zns_phone
from bot.messages import Reply
from bot.push import ChannelWindowClosed, PushDetails
from tests.support.fake_zalo import submit_info_event, text_event
from tests.zalo.conftest import INFO_IMAGE, TEMPLATES, ZaloWorld

CONFIRMED = "Đã xác minh: đây là hồ sơ của ông/bà"


async def _ask_to_verify(world: ZaloWorld, user: str, code: str) -> None:
    await world.say(text_event(user, code))
    verify = next(b for b in world.zalo.messages[-1].buttons if b["payload"].startswith("#mc:vf:"))
    before = len(world.zalo.messages)
    await world.say(text_event(user, verify["payload"]))
    asked = world.zalo.messages[before:]
    assert [m.template_type for m in asked][-1] == "request_user_info"
    (card,) = asked[-1].message["attachment"]["payload"]["elements"]
    assert card["image_url"] == INFO_IMAGE
    assert code in asked[0].text


async def _is_owner(world: ZaloWorld, user: str, code: str) -> bool:
    async with world.runtime.uow_factory() as uow:
        chat_user = await uow.users.get_or_create(
            "zalo", user, language="vi", now=world.runtime.clock.now()
        )
        return await uow.owners.is_owner(chat_user.id, code)


async def test_verification_by_the_receipt_pin(zalo_world: ZaloWorld) -> None:
    sample = zalo_world.samples["ready"]
    await _ask_to_verify(zalo_world, "u-20", sample.code)
    texts = await zalo_world.say(text_event("u-20", sample.pin))
    assert any(CONFIRMED in text for text in texts)
    assert await _is_owner(zalo_world, "u-20", sample.code)


async def test_a_wrong_pin_is_refused(zalo_world: ZaloWorld) -> None:
    sample = zalo_world.samples["ready"]
    await _ask_to_verify(zalo_world, "u-21", sample.code)
    wrong = "0000" if sample.pin != "0000" else "1111"
    texts = await zalo_world.say(text_event("u-21", wrong))
    assert texts
    assert CONFIRMED not in texts[-1]
    assert not await _is_owner(zalo_world, "u-21", sample.code)


async def test_verification_by_the_phone_shared_through_zalo(zalo_world: ZaloWorld) -> None:
    sample = zalo_world.samples["processing"]
    await _ask_to_verify(zalo_world, "u-22", sample.code)
    shared = zns_phone(sample.phone)
    assert shared is not None
    texts = await zalo_world.say(submit_info_event("u-22", shared))
    assert any(CONFIRMED in text for text in texts)
    assert await _is_owner(zalo_world, "u-22", sample.code)


async def test_someone_elses_phone_does_not_verify(zalo_world: ZaloWorld) -> None:
    sample = zalo_world.samples["processing"]
    await _ask_to_verify(zalo_world, "u-23", sample.code)
    texts = await zalo_world.say(submit_info_event("u-23", "84900000001"))
    assert texts
    assert CONFIRMED not in texts[-1]
    assert not await _is_owner(zalo_world, "u-23", sample.code)


async def test_after_phone_verification_a_push_outside_the_window_goes_by_zns(
    zalo_world: ZaloWorld,
) -> None:
    sample = zalo_world.samples["ready"]
    await _ask_to_verify(zalo_world, "u-24", sample.code)
    shared = zns_phone(sample.phone)
    assert shared is not None
    await zalo_world.say(submit_info_event("u-24", shared))
    async with zalo_world.runtime.uow_factory() as uow:
        user = await uow.users.get_or_create(
            "zalo", "u-24", language="vi", now=zalo_world.runtime.clock.now()
        )

    zalo_world.zalo.close_window("u-24")
    with pytest.raises(ChannelWindowClosed):
        await zalo_world.channel.send("u-24", [Reply("Hồ sơ đã có kết quả.")])
    details = PushDetails(user.id, "ready", sample.code, {"place": "Bộ phận Một cửa"})
    assert await zalo_world.channel.send_template("u-24", details) is True
    (zns,) = zalo_world.zalo.zns
    assert zns.phone == shared
    assert zns.template_id == TEMPLATES["ready"]
    assert zns.template_data["dossier_code"] == sample.code


async def test_a_pin_verified_owner_gets_no_zns(zalo_world: ZaloWorld) -> None:
    sample = zalo_world.samples["ready"]
    await _ask_to_verify(zalo_world, "u-25", sample.code)
    await zalo_world.say(text_event("u-25", sample.pin))
    async with zalo_world.runtime.uow_factory() as uow:
        user = await uow.users.get_or_create(
            "zalo", "u-25", language="vi", now=zalo_world.runtime.clock.now()
        )
    details = PushDetails(user.id, "ready", sample.code, {})
    assert await zalo_world.channel.send_template("u-25", details) is False
    assert zalo_world.zalo.zns == []
