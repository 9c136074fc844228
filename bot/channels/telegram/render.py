"""Reply → Telegram messages: text split to the 4096 limit, inline and contact keyboards."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.text import is_contact_button
from bot.channels.text import split_text as split_to_fit
from bot.messages import Button, Reply

log = logging.getLogger(__name__)

MAX_TEXT_UNITS = 4096  # Telegram counts UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_CONTACT_LABELS = {"vi": "📱 Chia sẻ số điện thoại", "en": "📱 Share my phone number"}

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Telegram message to send: its text and the keyboard under it, if any."""

    text: str
    markup: Markup | None = None

    @property
    def inline(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard, the only kind an edited message may carry."""
        return self.markup if isinstance(self.markup, InlineKeyboardMarkup) else None


def utf16_len(text: str) -> int:
    """The length Telegram measures: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """`text` cut into pieces of at most `limit` UTF-16 units, at line or word boundaries."""
    return split_to_fit(text, limit, units=utf16_len)


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons for `rows`; a payload over 64 bytes is logged and its button dropped."""
    keyboard: list[list[InlineKeyboardButton]] = []
    for row in rows:
        buttons = []
        for button in row:
            if is_contact_button(button):
                continue
            size = len(button.payload.encode())
            if size > MAX_CALLBACK_DATA_BYTES or size == 0:
                log.warning("button dropped: payload of %d bytes does not fit Telegram", size)
                continue
            buttons.append(InlineKeyboardButton(button.label, callback_data=button.payload))
        if buttons:
            keyboard.append(buttons)
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def contact_keyboard(reply: Reply, language: str = "vi") -> ReplyKeyboardMarkup:
    """A one-time reply keyboard with the single "share my phone number" button.

    The label is the reply's contact button's, else a default in `language`.
    """
    label = next(
        (button.label for row in reply.buttons for button in row if is_contact_button(button)),
        DEFAULT_CONTACT_LABELS.get(language, DEFAULT_CONTACT_LABELS["vi"]),
    )
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )


def menu_keyboard(labels: tuple[str, ...]) -> ReplyKeyboardMarkup:
    """The persistent menu: a reply keyboard whose buttons send their label as text."""
    rows = [
        [KeyboardButton(label) for label in labels[i : i + 2]] for i in range(0, len(labels), 2)
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def render(reply: Reply, language: str = "vi") -> list[Outgoing]:
    """The messages that show `reply`; the keyboard goes under the last piece of text.

    A reply asking for the phone number carries the contact keyboard; Telegram allows one
    keyboard per message, so its other buttons are not shown (the citizen can still type).
    A reply with a menu and no inline buttons sets the persistent menu keyboard (it stays
    until another reply keyboard replaces it); beside inline buttons the menu is left out.
    """
    pieces = split_text(reply.text)
    if not pieces:
        log.warning("reply with empty text not sent")
        return []
    markup: Markup | None
    if reply.request_phone:
        dropped = [b for row in reply.buttons for b in row if not is_contact_button(b)]
        if dropped:
            log.info("%d button(s) not shown beside the contact keyboard", len(dropped))
        markup = contact_keyboard(reply, language)
    else:
        markup = inline_keyboard(reply.buttons)
        if markup is None and reply.menu and not reply.edit:
            markup = menu_keyboard(reply.menu)
    messages = [Outgoing(piece) for piece in pieces[:-1]]
    messages.append(Outgoing(pieces[-1], markup))
    return messages
