"""Telegram updates mapped to Incoming: commands, contacts, attachments, what is ignored."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Update

from bot.channels.telegram.inbound import to_inbound
from bot.messages import Attachment

BOT = Bot("1:x")
USER = {"id": 42, "is_bot": False, "first_name": "A", "language_code": "en"}
PRIVATE = {"id": 42, "type": "private", "first_name": "A"}


def _message(**content: Any) -> Update:
    data = {"message_id": 1, "date": 1, "chat": PRIVATE, "from": USER, **content}
    return Update.de_json({"update_id": 1, "message": data}, BOT)


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("/start@Motcua_Bot abc", "/start abc"),
        ("/help@motcua_bot", "/help"),
        ("/start@OtherBot abc", "/start@OtherBot abc"),
        ("hello @motcua_bot", "hello @motcua_bot"),
    ],
)
def test_commands_lose_only_this_bots_name(typed: str, seen: str) -> None:
    inbound = to_inbound(_message(text=typed), "motcua_bot")
    assert inbound is not None
    assert inbound.incoming is not None
    assert inbound.incoming.text == seen
    assert inbound.incoming.language_hint == "en"
    assert inbound.incoming.user_id == "42"


def test_own_contact_is_a_phone_and_foreign_one_is_not() -> None:
    own = to_inbound(
        _message(contact={"phone_number": "+84901", "first_name": "A", "user_id": 42}), None
    )
    other = to_inbound(
        _message(contact={"phone_number": "+84902", "first_name": "B", "user_id": 7}), None
    )
    anonymous = to_inbound(_message(contact={"phone_number": "+84903", "first_name": "C"}), None)

    assert own is not None and own.incoming is not None and own.shared_contact
    assert own.incoming.phone == "+84901"
    for inbound in (other, anonymous):
        assert inbound is not None and inbound.incoming is not None
        assert inbound.incoming.phone is None
        assert inbound.incoming.attachment == Attachment.FOREIGN_CONTACT


def test_attachments_and_service_messages() -> None:
    photo = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    location = {"latitude": 21.0, "longitude": 105.8}
    voice = {"file_id": "f", "file_unique_id": "u", "duration": 1}
    for content, kind in [
        ({"photo": photo}, Attachment.IMAGE),
        ({"location": location}, Attachment.LOCATION),
        ({"voice": voice}, Attachment.VOICE),
        ({"dice": {"emoji": "🎲", "value": 3}}, Attachment.OTHER),
    ]:
        inbound = to_inbound(_message(**content), None)
        assert inbound is not None and inbound.incoming is not None
        assert inbound.incoming.attachment == kind
    assert to_inbound(_message(new_chat_title="x"), None) is None


def test_messages_from_bots_and_groups_are_ignored() -> None:
    bot_user = {**USER, "is_bot": True}
    group = {"id": -5, "type": "group", "title": "G"}
    assert to_inbound(_message(text="hi", **{"from": bot_user}), None) is None
    assert to_inbound(_message(text="hi", chat=group), None) is None
