"""Pushes: inside the chat window, outside it (-230 → ZNS), held ones released, expired tokens.

On the in-memory twin of the storage (the outbox's SQL is tested in tests/storage).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.channel_events import StoredChannelEvents
from bot.channels.zalo import ZaloChannel, build_zalo_channel
from bot.messages import Button, Reply
from bot.ports import Notice
from bot.push import (
    ChannelBlocked,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelTemporaryError,
    ChannelWindowClosed,
    PushDetails,
)
from bot.storage.probe import outbox_rows, update_outbox
from tests.support.fake_zalo import text_event
from tests.zalo.conftest import TEMPLATES, ZaloWorld


@dataclass
class DictPhones:
    """Verified phones kept in a dict: (user id, dossier code) → phone."""

    phones: dict[tuple[int, str], str] = field(default_factory=dict)

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        return self.phones.get((user_id, dossier_code))


@pytest.fixture
async def zns_channel(zalo_world: ZaloWorld) -> AsyncIterator[tuple[ZaloChannel, DictPhones]]:
    """A second channel on the same bot whose verified phones the test sets."""
    runtime = zalo_world.runtime
    phones = DictPhones()
    channel = build_zalo_channel(
        runtime.settings,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        handler=runtime.core,
        events=StoredChannelEvents(runtime.uow_factory, runtime.clock),
        phones=phones,
    )
    try:
        yield channel, phones
    finally:
        await channel.stop()


REPLY = Reply(
    "Hồ sơ của ông/bà đã có kết quả.",
    buttons=((Button("🔄 Làm mới", "lk:000.00.15.H12-240101-0001"),),),
)


async def test_a_push_inside_the_window_is_a_consultation_message(zalo_world: ZaloWorld) -> None:
    await zalo_world.channel.send("u-10", [REPLY, Reply("Mang theo giấy hẹn.")])
    sent = [m for m in zalo_world.zalo.messages if m.user_id == "u-10"]
    assert [m.text for m in sent] == ["Hồ sơ của ông/bà đã có kết quả.", "Mang theo giấy hẹn."]
    assert sent[0].buttons[0]["payload"] == "#mc:lk:000.00.15.H12-240101-0001"


async def test_outside_the_window_the_push_goes_by_zns_to_the_verified_phone(
    zalo_world: ZaloWorld, zns_channel: tuple[ZaloChannel, DictPhones]
) -> None:
    channel, phones = zns_channel
    zalo_world.zalo.close_window("u-11")
    with pytest.raises(ChannelWindowClosed):
        await channel.send("u-11", [REPLY])
    assert zalo_world.zalo.messages == []

    code = "000.00.15.H12-240101-0001"
    phones.phones[(5, code)] = "+84912345678"
    details = PushDetails(
        user_id=5,
        kind="ready",
        dossier_code=code,
        params={"place": "Bộ phận Một cửa", "due_at": "2025-03-04T02:00:00+00:00", "fee": 50000},
    )
    assert await channel.send_template("u-11", details) is True
    assert await channel.send_template("u-11", details) is True  # a retry of the same notice
    first, second = zalo_world.zalo.zns
    assert first.phone == "84912345678"
    assert first.template_id == TEMPLATES["ready"]
    assert first.template_data == {
        "dossier_code": code,
        "place": "Bộ phận Một cửa",
        "due_at": "04/03/2025",
        "fee": 50000,
    }
    assert first.tracking_id == second.tracking_id
    assert len(first.tracking_id) <= 48


async def test_no_zns_without_a_template_or_a_verified_phone(
    zalo_world: ZaloWorld, zns_channel: tuple[ZaloChannel, DictPhones]
) -> None:
    channel, phones = zns_channel
    code = "000.00.15.H12-240101-0002"
    phones.phones[(6, code)] = "+84912345678"
    no_template = PushDetails(user_id=6, kind="received", dossier_code=code, params={})
    assert await channel.send_template("u-12", no_template) is False
    no_phone = PushDetails(user_id=7, kind="ready", dossier_code=code, params={})
    assert await channel.send_template("u-13", no_phone) is False
    no_dossier = PushDetails(user_id=6, kind="ready", dossier_code=None, params={})
    assert await channel.send_template("u-12", no_dossier) is False
    assert zalo_world.zalo.zns == []


async def test_an_expired_token_mid_send_is_refreshed_and_the_send_succeeds(
    zalo_world: ZaloWorld,
) -> None:
    await zalo_world.channel.send("u-14", [Reply("một")])
    zalo_world.zalo.expire_access_token()
    await zalo_world.channel.send("u-14", [Reply("hai")])
    assert zalo_world.zalo.texts_to("u-14") == ["một", "hai"]
    assert zalo_world.zalo.refreshes == 1

    zalo_world.zalo.fail_next("cs", -216)  # the token is refused once more: refresh again
    await zalo_world.channel.send("u-14", [Reply("ba")])
    assert zalo_world.zalo.texts_to("u-14")[-1] == "ba"
    assert zalo_world.zalo.refreshes == 2


async def test_an_expired_token_during_zns_is_refreshed(
    zalo_world: ZaloWorld, zns_channel: tuple[ZaloChannel, DictPhones]
) -> None:
    channel, phones = zns_channel
    phones.phones[(8, "000.00.15.H12-240101-0003")] = "0912345678"
    zalo_world.zalo.expire_access_token()
    details = PushDetails(8, "ready", "000.00.15.H12-240101-0003", {})
    assert await channel.send_template("u-15", details) is True
    assert zalo_world.zalo.refreshes == 1
    assert zalo_world.zalo.zns[0].phone == "84912345678"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-32, ChannelRetryAfter),
        (-213, ChannelBlocked),
        (-201, ChannelPermanentError),
        (-100, ChannelTemporaryError),
        (502, ChannelTemporaryError),
    ],
)
async def test_send_errors_reach_the_dispatcher_as_channel_errors(
    zalo_world: ZaloWorld, code: int, error: type[Exception]
) -> None:
    zalo_world.zalo.fail_next("cs", code)
    with pytest.raises(error):
        await zalo_world.channel.send("u-16", [Reply("x")])
    assert zalo_world.zalo.calls["cs"] == 1  # the dispatcher decides about retries


async def test_a_blocked_user_is_recorded_when_the_answer_bounces(zalo_world: ZaloWorld) -> None:
    zalo_world.zalo.fail_next("cs", -227)
    await zalo_world.say(text_event("u-17", "/start"))
    async with zalo_world.runtime.uow_factory() as uow:
        user = await uow.users.get_or_create(
            "zalo", "u-17", language="vi", now=zalo_world.runtime.clock.now()
        )
    assert user.blocked


async def test_a_temporary_failure_of_an_answer_is_retried(zalo_world: ZaloWorld) -> None:
    zalo_world.zalo.fail_next("cs", -100, 503)
    texts = await zalo_world.say(text_event("u-18", "/start"))
    assert texts
    assert "Xin chào" in texts[0]


async def test_writing_again_releases_the_pushes_held_for_the_closed_window(
    zalo_world: ZaloWorld,
) -> None:
    runtime = zalo_world.runtime
    now = runtime.clock.now()
    async with runtime.uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "u-19", language="vi", now=now)
        await uow.outbox.enqueue(
            Notice(user_id=user.id, kind="ready", dedup_key="held-1", dossier_code="X"), now=now
        )
        await uow.commit()
    assert await update_outbox(runtime.uow_factory, {"state": "held"}, dedup_key="held-1") == 1

    await zalo_world.say(text_event("u-19", "/help"))

    [row] = await outbox_rows(runtime.uow_factory, dedup_key="held-1")
    assert row["state"] == "queued"
