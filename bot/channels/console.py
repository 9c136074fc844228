"""A chat in the terminal: the citizen types, buttons are shown as numbered choices.

Used by ``motcua demo``. Like every channel it only maps text in and replies out; the
conversation itself is the core's.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.channels.text import is_contact_button
from bot.i18n import gettext_for
from bot.messages import Button, Channel, Incoming, MessageHandler, Reply, Response
from bot.push import ChannelPermanentError

CHANNEL = Channel.CONSOLE.value


class Writer(Protocol):
    """Where the chat is printed (a terminal, or a buffer in tests)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


@dataclass
class ConsoleChat:
    """One citizen chatting with the bot in a terminal."""

    handler: MessageHandler
    out: Writer
    user_id: str = "citizen"
    width: int = 78
    language: str = "vi"
    _buttons: list[Button] = field(default_factory=list)
    _awaiting_phone: bool = False

    async def type(self, line: str) -> Response | None:
        """What the citizen typed: a button number, a phone number when asked, or text."""
        stripped = line.strip()
        if self._awaiting_phone:
            self._awaiting_phone = False
            return await self._send(Incoming(CHANNEL, self.user_id, phone=stripped))
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._buttons):
            return await self.press(self._buttons[int(stripped) - 1])
        return await self._send(Incoming(CHANNEL, self.user_id, text=line))

    async def press(self, button: Button) -> Response | None:
        """Press one of the buttons on screen."""
        if is_contact_button(button):
            self._awaiting_phone = True
            _ = gettext_for(self.language)
            self._print(_("(Type the phone number to share, e.g. 0912345678)"))
            return None
        return await self._send(Incoming(CHANNEL, self.user_id, payload=button.payload))

    async def press_action(self, action: str) -> Response | None:
        """Press the first button on screen whose payload asks for `action` (the payload's
        head, e.g. ``"sb"``; used by the scripted tour)."""
        for button in self._buttons:
            if button.payload.split(":", 1)[0] == action:
                return await self.press(button)
        raise LookupError(f"no button for {action} on screen")

    def show_push(self, replies: Sequence[Reply]) -> None:
        """A notice pushed by the bot, not an answer to anything typed."""
        for reply in replies:
            self._print_reply(reply, marker="🔔")

    async def _send(self, incoming: Incoming) -> Response:
        response = await self.handler(incoming)
        self.language = response.language
        self._buttons = []
        if response.notice and not response.replies:
            self._print(f"({response.notice})")
        for reply in response.replies:
            self._print_reply(reply, marker="🤖")
        if self._buttons:
            _ = gettext_for(self.language)
            self._print(_("(Type a number to press a button.)"))
        return response

    def _print_reply(self, reply: Reply, *, marker: str) -> None:
        lines = []
        for paragraph in reply.text.split("\n"):
            lines += textwrap.wrap(paragraph, self.width - 3) or [""]
        self.out.write(f"{marker} " + "\n   ".join(lines) + "\n")
        for row in reply.buttons:
            labels = []
            for button in row:
                self._buttons.append(button)
                labels.append(f"[{len(self._buttons)}] {button.label}")
            self.out.write("   " + "   ".join(labels) + "\n")
        if reply.menu and not reply.buttons:
            self.out.write("   ☰ " + " · ".join(reply.menu) + "\n")
        self.out.flush()

    def _print(self, line: str) -> None:
        self.out.write(f"   {line}\n")
        self.out.flush()


class ConsoleSender:
    """The terminal as a push channel (a `bot.push.Sender`): the dispatcher's
    notices appear in the citizen's chat, marked 🔔, while they type."""

    def __init__(self, chat: ConsoleChat) -> None:
        self._chat = chat
        self._arrived = asyncio.Event()
        self.delivered = 0
        # Called after each push (the demo redraws its prompt there).
        self.after_push: Callable[[], None] | None = None

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        """Show `replies` in the chat of `channel_user_id` (the one citizen at this terminal)."""
        if channel_user_id != self._chat.user_id:
            raise ChannelPermanentError(f"no console chat for user {channel_user_id!r}")
        self._chat.show_push(replies)
        self.delivered += 1
        self._arrived.set()
        if self.after_push is not None:
            self.after_push()

    async def wait_for(self, count: int, *, within: float) -> bool:
        """Wait until `count` pushes have been shown in all; False if `within` seconds pass."""
        try:
            async with asyncio.timeout(within):
                while self.delivered < count:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            return False
        return True
