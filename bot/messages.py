"""Channel-neutral messages: what a citizen sent (Incoming) and what the bot answers (Reply).

Channel adapters (Telegram, Zalo, the console) translate their platform's updates into
`Incoming` and render `Reply` objects with the platform's own means and limits. Handlers see
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Channel(StrEnum):
    """The chat platforms motcua speaks on."""

    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


SHARE_CONTACT = "contact"
"""The payload action of a button that only asks the platform for the user's phone number
(Telegram's contact keyboard, the console's prompt); handlers make it, channels render it."""


class Attachment(StrEnum):
    """Things a citizen may send that carry no text the bot can use."""

    IMAGE = "image"
    STICKER = "sticker"
    FILE = "file"
    VOICE = "voice"
    LOCATION = "location"
    FOREIGN_CONTACT = "foreign_contact"  # a contact card that is not the sender's own
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a citizen did in a chat: typed text, pressed a button or shared a phone number.

    Exactly one of `text`, `payload`, `phone` and `attachment` is normally set. `text` keeps
    commands as typed (``/start abc``); the router parses them. `phone` is set only when the
    platform vouches that the number is the sender's own (Telegram contact of the sender, Zalo
    submitted info). `attachment` names something else the citizen sent that the bot cannot
    read: one of the `Attachment` values. `language_hint` is the platform's language code for
    the user (e.g. Telegram's ``language_code``), used for a new user's first language.
    """

    channel: str
    user_id: str
    text: str | None = None
    payload: str | None = None
    phone: str | None = None
    attachment: str | None = None
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply; pressing it comes back as `Incoming.payload`."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show the citizen.

    `buttons` are rows of buttons. `request_phone` asks the platform to offer the citizen a
    one-tap "share my phone number" (Telegram contact button, Zalo information request).
    `edit` asks the adapter to replace the message whose button was pressed, where it can.
    `menu` is the persistent menu to show where the platform has one: labels that, tapped,
    send themselves as typed text (Telegram's reply keyboard; on Zalo, buttons that send their
    label; the console prints them). The understanding step reads them like any message.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_phone: bool = False
    edit: bool = False
    menu: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    """Everything the bot does in answer to one Incoming.

    `notice` is a short transient acknowledgement of a button press (Telegram shows it as the
    callback answer; other channels send it as a message when there is no other reply).
    `menu` is the user's persistent menu in `language`, for a channel that has to put its
    keyboard back (Telegram, when it takes away the "share my phone number" keyboard); the
    core sets it on every answer.
    """

    replies: tuple[Reply, ...] = ()
    notice: str | None = None
    language: str = "vi"
    menu: tuple[str, ...] = ()

    @classmethod
    def of(cls, *replies: Reply, notice: str | None = None, language: str = "vi") -> Response:
        """A response made of `replies`."""
        return cls(replies=tuple(replies), notice=notice, language=language)


class MessageHandler(Protocol):
    """What a channel adapter hands every Incoming to; never raises, always answers."""

    async def __call__(self, incoming: Incoming) -> Response: ...


class ChannelEvents(Protocol):
    """What a channel adapter reports back about its users, besides their messages."""

    async def user_blocked(self, channel: str, channel_user_id: str) -> None:
        """The user blocked the bot (Telegram 403, Zalo equivalent): stop pushing to them."""
        ...
