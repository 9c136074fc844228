"""The Telegram adapter end to end: python-telegram-bot's own client against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.messages import Attachment
from tests.telegram.conftest import Harness

USER = 5001


async def test_start_registers_commands_in_both_languages(bot: Harness) -> None:
    assert set(bot.fake.commands) == {None, "en"}
    names = [c["command"] for c in bot.fake.commands[None]]
    assert {"start", "help", "lang", "mine", "forget"} <= set(names)
    assert bot.fake.commands[None] != bot.fake.commands["en"]  # translated descriptions
    if bot.mode == "webhook":
        assert bot.fake.webhook_url is not None
        assert bot.fake.webhook_url.endswith("/hooks/telegram")
    else:
        assert bot.fake.webhook_url is None


async def test_start_command_reaches_the_core_and_shows_buttons(bot: Harness) -> None:
    await bot.fake.send_text(USER, "/start@motcua_test_bot abc", language_code="en")

    [message] = await bot.fake.wait_for_messages(USER, 1)
    assert message.text == "Xin chào! [/start abc]"
    assert message.buttons == [[("Tra cứu", "lk:A"), ("Hồ sơ của tôi", "mn:")]]
    [incoming] = bot.core.seen
    assert incoming.channel == "telegram"
    assert incoming.user_id == str(USER)
    assert incoming.language_hint == "en"


async def test_text_is_answered(bot: Harness) -> None:
    await bot.fake.send_text(USER, "000.00.53.H48-220921-0099")

    await bot.fake.wait_for_messages(USER, 1)
    assert bot.fake.texts(USER) == ["echo: 000.00.53.H48-220921-0099"]
    assert bot.core.seen[0].text == "000.00.53.H48-220921-0099"


async def test_button_press_answers_the_query_and_edits_in_place(bot: Harness) -> None:
    await bot.fake.send_text(USER, "/start")
    [menu] = await bot.fake.wait_for_messages(USER, 1)

    await bot.fake.press_button(USER, menu, menu.payload_of("Tra cứu"))
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers) == 1)
    await bot.fake.wait_until(lambda: bool(bot.fake.messages(USER)[0].edits))

    [edited] = bot.fake.messages(USER)  # no new message: the old one changed
    assert edited.text == "Trạng thái hồ sơ A"
    assert edited.edits == ["Xin chào! [/start]"]
    assert edited.buttons == [[("Làm mới", "lk:A")]]
    assert bot.fake.callback_answers[0]["text"] == "Đã cập nhật"
    assert bot.core.seen[-1].payload == "lk:A"


async def test_pressing_refresh_on_an_unchanged_message_sends_nothing_new(bot: Harness) -> None:
    await bot.fake.send_text(USER, "/start")
    [menu] = await bot.fake.wait_for_messages(USER, 1)
    await bot.fake.press_button(USER, menu, "lk:A")
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers) == 1)
    await bot.fake.wait_until(lambda: bool(bot.fake.messages(USER)[0].edits))

    await bot.fake.press_button(USER, bot.fake.messages(USER)[0], "lk:A")
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers) == 2)
    await asyncio.sleep(0.2)

    assert len(bot.fake.messages(USER)) == 1  # "message is not modified" is not an error
    assert bot.fake.calls_of("editMessageText")[-1].status == 400


async def test_edit_refused_falls_back_to_a_new_message(bot: Harness) -> None:
    await bot.fake.send_text(USER, "/start")
    [menu] = await bot.fake.wait_for_messages(USER, 1)
    bot.fake.fail("editMessageText", 400)

    await bot.fake.press_button(USER, menu, "lk:B")

    messages = await bot.fake.wait_for_messages(USER, 2)
    assert messages[0].text == "Xin chào! [/start]"
    assert messages[1].text == "Trạng thái hồ sơ B"
    assert messages[1].buttons == [[("Làm mới", "lk:B")]]


async def test_a_stale_button_is_answered_with_the_notice_only(bot: Harness) -> None:
    await bot.fake.send_text(USER, "/start")
    [menu] = await bot.fake.wait_for_messages(USER, 1)

    await bot.fake.press_button(USER, menu, "zz:old")
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers) == 1)
    await asyncio.sleep(0.2)

    assert bot.fake.callback_answers[0]["text"] == "Nút này đã hết hạn."
    assert len(bot.fake.messages(USER)) == 1
    assert not bot.fake.messages(USER)[0].edits


async def test_every_callback_query_is_answered_even_when_the_core_fails(
    bot: Harness,
) -> None:
    async def failing(_incoming: object) -> object:
        raise RuntimeError("core down")

    bot.channel._handler = failing  # type: ignore[assignment]
    await bot.fake.press_button(USER, _fake_message(bot), "lk:A")

    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers) == 1)
    assert "text" not in bot.fake.callback_answers[0]
    assert bot.fake.messages(USER) == []


async def test_contact_keyboard_then_own_contact_removes_it(bot: Harness) -> None:
    await bot.fake.send_text(USER, "phone")
    [ask] = await bot.fake.wait_for_messages(USER, 1)
    assert ask.keyboard == [[{"text": "📱 Chia sẻ số điện thoại", "request_contact": True}]]
    assert ask.reply_markup is not None
    assert ask.reply_markup["one_time_keyboard"] is True

    await bot.fake.share_contact(USER, "+84901234567")

    messages = await bot.fake.wait_for_messages(USER, 2)
    assert messages[1].text == "Đã xác minh số điện thoại."
    assert messages[1].removes_keyboard
    assert bot.core.seen[-1].phone == "+84901234567"


async def test_someone_elses_contact_is_not_taken_as_the_users_phone(bot: Harness) -> None:
    await bot.fake.share_contact(USER, "+84900000000", contact_user_id=USER + 1)
    await bot.fake.share_contact(USER, "+84900000001", contact_user_id=None)

    await bot.fake.wait_for_messages(USER, 2)
    assert [i.phone for i in bot.core.seen] == [None, None]
    assert [i.attachment for i in bot.core.seen] == [Attachment.FOREIGN_CONTACT] * 2
    assert bot.fake.texts(USER) == ["Đây không phải số của bạn."] * 2


async def test_a_sticker_becomes_an_attachment(bot: Harness) -> None:
    await bot.fake.send_sticker(USER)

    await bot.fake.wait_for_messages(USER, 1)
    assert bot.core.seen[0].attachment == Attachment.STICKER
    assert bot.fake.texts(USER) == ["Không đọc được: sticker"]


async def test_a_long_reply_is_split_at_line_boundaries(bot: Harness) -> None:
    await bot.fake.send_text(USER, "long")

    await bot.fake.wait_until(lambda: len(bot.core.seen) == 1)
    await asyncio.sleep(0.3)
    texts = bot.fake.texts(USER)
    assert len(texts) == 7  # 200 lines of 121 characters + newline: 33 per message
    assert all(4096 - 122 < len(t) <= 4096 for t in texts[:-1])
    lines = [line for t in texts for line in t.split("\n")]
    assert len(lines) == 200
    assert [line[:4] for line in lines] == [f"{i:04d}" for i in range(200)]


async def test_a_button_whose_payload_does_not_fit_is_dropped(bot: Harness) -> None:
    await bot.fake.send_text(USER, "too-long-payload")

    [message] = await bot.fake.wait_for_messages(USER, 1)
    assert message.buttons == [[("ok", "lk:1")]]


async def test_flood_control_is_waited_out_and_the_reply_sent_once(bot: Harness) -> None:
    bot.fake.fail("sendMessage", 429, retry_after=1)

    await bot.fake.send_text(USER, "hello")

    await bot.fake.wait_for_messages(USER, 1, within=5)
    await asyncio.sleep(0.2)
    assert bot.fake.texts(USER) == ["echo: hello"]
    sends = bot.fake.calls_of("sendMessage")
    assert [c.status for c in sends] == [429, 200]
    assert sends[1].at - sends[0].at >= 0.95


async def test_server_errors_are_retried(bot: Harness) -> None:
    bot.fake.fail("sendMessage", 500, times=2)

    await bot.fake.send_text(USER, "hello")

    await bot.fake.wait_for_messages(USER, 1)
    assert bot.fake.texts(USER) == ["echo: hello"]
    assert [c.status for c in bot.fake.calls_of("sendMessage")] == [500, 500, 200]


async def test_a_user_who_blocked_the_bot_is_reported(bot: Harness) -> None:
    bot.fake.fail("sendMessage", 403, chat_id=USER)

    await bot.fake.send_text(USER, "hello")

    await bot.fake.wait_until(lambda: len(bot.fake.calls_of("sendMessage")) == 1)
    await _until(lambda: bool(bot.events.blocked))
    assert bot.events.blocked == [("telegram", str(USER))]
    assert bot.fake.messages(USER) == []


async def test_leaving_the_chat_reports_the_user_blocked(bot: Harness) -> None:
    member = {"user": bot.fake.user(USER), "status": "member"}
    kicked = {"user": bot.fake.user(USER), "status": "kicked", "until_date": 0}
    await bot.fake.send_update(
        {
            "my_chat_member": {
                "chat": {"id": USER, "type": "private", "first_name": "U"},
                "from": bot.fake.user(USER),
                "date": 1700000000,
                "old_chat_member": member,
                "new_chat_member": kicked,
            }
        }
    )
    await _until(lambda: bool(bot.events.blocked))
    assert bot.events.blocked == [("telegram", str(USER))]


async def test_a_core_error_is_logged_and_the_bot_carries_on(bot: Harness) -> None:
    await bot.fake.send_text(USER, "boom")
    await bot.fake.send_text(USER, "after")

    await bot.fake.wait_for_messages(USER, 1)
    await asyncio.sleep(0.1)
    assert bot.fake.texts(USER) == ["echo: after"]


async def test_unknown_updates_and_group_messages_are_ignored(bot: Harness) -> None:
    chat = {"id": -100123, "type": "supergroup", "title": "Nhóm"}
    await bot.fake.send_update(
        {"edited_message": {"message_id": 1, "date": 1, "chat": chat, "text": "x"}}
    )
    channel_post = {
        "message_id": 3,
        "date": 1,
        "chat": {"id": -100999, "type": "channel", "title": "Kênh"},
        "text": "x",
    }
    await bot.fake.send_update({"channel_post": channel_post})
    await bot.fake.send_update(
        {
            "message": {
                "message_id": 2,
                "date": 1,
                "chat": chat,
                "from": bot.fake.user(USER),
                "text": "000.00.53.H48-220921-0099",
            }
        }
    )
    await bot.fake.send_text(USER, "still here")

    await bot.fake.wait_for_messages(USER, 1)
    assert [i.text for i in bot.core.seen] == ["still here"]
    assert bot.fake.messages(-100123) == []


async def test_one_users_updates_in_order_and_others_not_held_up(bot: Harness) -> None:
    alice, bob = 7001, 7002
    bot.core.slow_seconds = 1.0

    await bot.fake.send_text(alice, "slow first")
    await bot.fake.send_text(alice, "second")
    await bot.fake.send_text(bob, "quick")

    await bot.fake.wait_for_messages(bob, 1, within=0.8)  # not behind Alice's slow lookup
    assert bot.fake.messages(alice) == []
    await bot.fake.wait_for_messages(alice, 2, within=3)
    assert bot.fake.texts(alice) == ["echo: slow first", "echo: second"]


def _fake_message(bot: Harness) -> object:
    from tests.support.fake_telegram import SentMessage

    return SentMessage(999, USER, "cũ", {"inline_keyboard": []}, 1)


async def _until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Wait for a condition on the test's own fakes (not the Bot API's, see wait_until)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - plain objects, nothing to wait on
            await asyncio.sleep(0.01)
