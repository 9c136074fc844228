"""Telegram Update → Incoming, with what the adapter needs to answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from telegram import Contact, Message, Update
from telegram.constants import ChatType

from bot.messages import Attachment, Channel, Incoming

CHANNEL = Channel.TELEGRAM.value
_COMMAND_WITH_BOT = re.compile(r"^(/[A-Za-z0-9_]+)@([A-Za-z0-9_]+)(?=\s|$)")
_ATTACHMENTS: dict[str, Attachment] = {
    "photo": Attachment.IMAGE,
    "sticker": Attachment.STICKER,
    "document": Attachment.FILE,
    "video": Attachment.FILE,
    "animation": Attachment.FILE,
    "audio": Attachment.FILE,
    "voice": Attachment.VOICE,
    "video_note": Attachment.VOICE,
    "location": Attachment.LOCATION,
    "venue": Attachment.LOCATION,
}


@dataclass(frozen=True, slots=True)
class Inbound:
    """An update the bot answers: the Incoming and where the answer goes.

    `callback_query_id` is set for a button press (it must always be answered); `message_id`
    is then the message carrying the pressed button, when Telegram still gives it.
    `incoming` is None for a button press the bot cannot use (no data, or not in a private
    chat): it is only acknowledged.
    """

    chat_id: int
    incoming: Incoming | None
    callback_query_id: str | None = None
    message_id: int | None = None
    shared_contact: bool = False


def to_inbound(update: Update, bot_username: str | None) -> Inbound | None:
    """What the adapter does with `update`; None for updates the bot ignores.

    Ignored: update types the bot does not handle (edited messages, channel posts, …),
    messages outside private chats, messages from bots and service messages.
    """
    if update.callback_query is not None:
        return _from_callback(update)
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    if message.chat.type != ChatType.PRIVATE:
        return None
    user = message.from_user
    base = Incoming(channel=CHANNEL, user_id=str(user.id), language_hint=user.language_code)
    if message.text is not None:
        text = _strip_bot_name(message.text, bot_username)
        return Inbound(message.chat.id, replace(base, text=text))
    if message.contact is not None:
        if _is_own(message.contact, user.id):
            incoming = replace(base, phone=message.contact.phone_number)
        else:
            incoming = replace(base, attachment=Attachment.FOREIGN_CONTACT.value)
        return Inbound(message.chat.id, incoming, shared_contact=True)
    attachment = _attachment(message)
    if attachment is None:
        return None
    return Inbound(message.chat.id, replace(base, attachment=attachment.value))


def _from_callback(update: Update) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    private = message is None or message.chat.type == ChatType.PRIVATE
    incoming = None
    if private and query.data and not query.from_user.is_bot:
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            payload=query.data,
            language_hint=query.from_user.language_code,
        )
    message_id = message.message_id if isinstance(message, Message) else None
    return Inbound(chat_id, incoming, callback_query_id=query.id, message_id=message_id)


def _is_own(contact: Contact, sender_id: int) -> bool:
    """Telegram sets `user_id` only for a user's contact; the sender's own has their id."""
    return contact.user_id is not None and contact.user_id == sender_id


def _strip_bot_name(text: str, bot_username: str | None) -> str:
    """``/start@MotcuaBot abc`` → ``/start abc`` when the name is this bot's."""
    match = _COMMAND_WITH_BOT.match(text)
    if match is None or bot_username is None:
        return text
    if match.group(2).lower() != bot_username.lower().removeprefix("@"):
        return text
    return match.group(1) + text[match.end() :]


def _attachment(message: Message) -> Attachment | None:
    for field, kind in _ATTACHMENTS.items():
        if getattr(message, field, None):
            return kind
    if message.effective_attachment is not None:
        return Attachment.OTHER  # polls, dice, games, stories, …
    return None
