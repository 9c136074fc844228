"""The Telegram channel: python-telegram-bot in polling or webhook mode, around the core.

Every update goes through one `TypeHandler`: it is mapped to an `Incoming`
(`inbound.to_inbound`), handed to the core's `MessageHandler`, and the `Response` is rendered
back (`render.render`) with Telegram's own means: inline keyboards, a contact keyboard,
editing the message whose button was pressed, answering every callback query.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import (
    BotCommand,
    ChatMemberUpdated,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram.inbound import CHANNEL, Inbound, to_inbound
from bot.channels.telegram.processor import PerUserUpdateProcessor
from bot.channels.telegram.render import Markup, Outgoing, menu_keyboard, render
from bot.channels.telegram.request import bot_api_request
from bot.inbound import ChannelJournal
from bot.messages import ChannelEvents, MessageHandler, Reply
from bot.messages import Response as BotResponse
from bot.ports import JournaledUpdate
from bot.push import (
    ChannelBlocked,
    ChannelError,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelTemporaryError,
)
from bot.web.body import BodyRefused, decode_json, read_limited, refusal

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/hooks/telegram"
# Parallel webhook POSTs Telegram may open (1–100; its default is 40). Each POST is answered
# only once its update is committed to the inbound journal, so in a burst a POST waits for
# a commit; more of them in flight keep the throughput up ("higher values to increase your
# bot's throughput", says the Bot API). One POST costs the bot an update's worth of work.
WEBHOOK_CONNECTIONS = 100
# An update is a few KiB at most (a 4096-character text with its entities); far more is not
# Telegram.
MAX_BODY_BYTES = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
_POLL_PAUSE = 1.0  # seconds before polling again after a failure, doubling up to the max
_POLL_PAUSE_MAX = 30.0
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_T = TypeVar("_T")
CommandSource = Callable[[str], Sequence[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How answers to citizens are retried.

    Flood control (`RetryAfter`) is waited out when it asks for at most `max_retry_after`
    seconds; network errors and timeouts are retried with exponential backoff from `backoff`.
    `attempts` counts the first try.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_retry_after: float = 60.0


class TelegramChannel:
    """Serves citizens on Telegram and pushes messages to them (a `bot.push.Sender`).

    With `webhook_url` set, `start` registers the webhook (with `webhook_secret`) and updates
    arrive through `routes()`, which the project's web app mounts; otherwise `start` deletes
    any webhook and long-polls. `api_url` is the Bot API server (``https://api.telegram.org``,
    a local Bot API server, or a fake in tests).

    `max_concurrency` updates are processed at once, one user's in order; 1 means
    python-telegram-bot's default (one update at a time). Bot API calls share
    `connection_pool_size` connections: Telegram lets a bot send about 30 messages/s, so a few
    connections suffice. `poll_timeout`
    is the long-polling wait; `retry` how answers are retried; `commands` gives the command
    menu per language (None: leave the menu alone).
    """

    def __init__(
        self,
        token: str,
        api_url: str,
        handler: MessageHandler,
        events: ChannelEvents,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        max_concurrency: int = 256,
        poll_timeout: float = 10.0,
        connection_pool_size: int = 8,
        retry: RetryPolicy | None = None,
        commands: CommandSource | None = None,
        journal: ChannelJournal | None = None,
    ) -> None:
        if webhook_url is not None and webhook_secret is None:
            raise ValueError("a Telegram webhook needs a secret token")
        if webhook_secret is not None and not _SECRET_RE.fullmatch(webhook_secret):
            raise ValueError("the webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        _opt_in_to_timedelta_periods()
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._handler = handler
        self._events = events
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._max_concurrency = max_concurrency
        self._poll_timeout = poll_timeout
        self._connection_pool_size = connection_pool_size
        self._api_slots = asyncio.Semaphore(connection_pool_size)
        self._retry = retry or RetryPolicy()
        self._commands = commands
        self._journal = journal
        self._poller: asyncio.Task[None] | None = None
        self._offset: int | None = None  # the next getUpdates offset (polling)
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._keyboard_open: set[int] = set()  # chats showing our contact keyboard

    # ----------------------------------------------------------------- lifecycle

    @property
    def mode(self) -> str:
        """``"webhook"`` or ``"polling"``."""
        return "webhook" if self._webhook_url else "polling"

    @property
    def bot_username(self) -> str | None:
        """The bot's username, known once started."""
        return self._app.bot.username if self._app is not None and self._app.running else None

    async def start(self) -> None:
        """Connect to the Bot API, register the commands, then set the webhook or poll."""
        builder = (
            Application.builder()
            .token(self._token)
            .base_url(f"{self._api_url}/bot")
            .base_file_url(f"{self._api_url}/file/bot")
            .concurrent_updates(
                # 1: python-telegram-bot's default, one update at a time (benchmark baseline)
                PerUserUpdateProcessor(self._max_concurrency) if self._max_concurrency > 1 else 1
            )
            .request(bot_api_request(self._connection_pool_size, pool_timeout=30.0))
            .get_updates_request(bot_api_request(1, read_timeout=5.0))
            .job_queue(None)
            # Updates are fetched here (`_poll`), so that each is journaled before the offset
            # moves past it; python-telegram-bot's Updater would confirm them first.
            .updater(None)
        )
        app = builder.build()
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        await app.initialize()
        self._app = app  # before updates can arrive
        try:
            await self._set_commands(app)
            await app.start()
            if self._journal is not None:
                # The one poller owns every pending update; webhook processes wait for leases.
                await self._replay(await self._journal.recover(everything=self.mode == "polling"))
                self._journal.start_upkeep(self._replay)
            if self._webhook_url is not None:
                await self._call(
                    lambda: app.bot.set_webhook(
                        self._webhook_url or "",
                        secret_token=self._webhook_secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                        max_connections=WEBHOOK_CONNECTIONS,
                    )
                )
                log.info("telegram: webhook set, waiting for updates")
            else:
                # Telegram refuses getUpdates while a webhook is set.
                await self._call(lambda: app.bot.delete_webhook(drop_pending_updates=False))
                self._poller = asyncio.create_task(self._poll(app), name="telegram-poll")
                log.info("telegram: long polling")
        except BaseException:
            self._app = None
            await self._shutdown(app)
            raise

    async def stop(self) -> None:
        """Stop polling, let the updates in progress finish, and close the connections."""
        app = self._app
        if app is None:
            return
        try:
            await self._stop_polling(app)
            if self._journal is not None:
                await self._journal.stop()
            await self._shutdown(app)
        finally:
            self._app = None

    async def _stop_polling(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        poller, self._poller = self._poller, None
        if poller is None:
            return
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        if self._offset is not None:
            # Confirm what was fetched, so that Telegram does not send it again.
            offset = self._offset
            try:
                await app.bot.get_updates(offset=offset, timeout=0)
            except TelegramError as exc:
                log.info("telegram: could not confirm the last updates (%s)", exc)

    @staticmethod
    async def _shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _set_commands(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if self._commands is None:
            return
        for language, code in (("vi", None), ("en", "en")):
            commands = [
                BotCommand(name.removeprefix("/").lower(), description)
                for name, description in self._commands(language)
            ]
            await self._call(partial(app.bot.set_my_commands, commands, language_code=code))

    # ----------------------------------------------------------------- webhook

    def routes(self) -> list[BaseRoute]:
        """``POST /hooks/telegram``: Telegram's webhook calls, checked against the secret."""
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER)
        expected = self._webhook_secret
        if (
            expected is None
            or given is None
            or not hmac.compare_digest(given.encode(), expected.encode())
        ):
            log.warning("telegram: webhook call without the right secret refused")
            return refusal(403, "forbidden")
        app = self._app
        if app is None or not app.running:
            return refusal(503, "not ready")
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
        except BodyRefused as refused:
            log.warning("telegram: webhook body refused (%s)", refused)
            return refused.response
        try:
            data = decode_json(body)
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # any malformed body; Telegram itself never sends one
            log.warning("telegram: malformed webhook body refused (%s)", type(exc).__name__)
            return refusal(400, "bad update")
        if self._journal is not None:
            try:
                fresh = await self._journal.admit(
                    [(str(update.update_id), body.decode("utf-8", "replace"))]
                )
            except Exception:
                log.exception("telegram: could not store update %s", update.update_id)
                return refusal(503, "unavailable")  # Telegram retries
            if not fresh:
                log.info("telegram: repeated update %s ignored", update.update_id)
                return Response(status_code=200)
        await app.update_queue.put(update)
        return Response(status_code=200)

    # ----------------------------------------------------------------- polling

    async def _poll(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Long-poll getUpdates; the offset moves past updates only once they are journaled.

        Telegram forgets updates up to the offset of the next call, so an update is stored
        (`ChannelJournal.admit`) before that call; if storing fails, the same updates are
        fetched again.
        """
        pause = _POLL_PAUSE
        while True:
            try:
                updates = await app.bot.get_updates(
                    offset=self._offset,
                    timeout=int(self._poll_timeout),
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                fresh = await self._admit(updates)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except InvalidToken:
                log.error("telegram: the bot token is refused; polling stopped")
                return
            except Conflict:
                log.error("telegram: another process polls or a webhook is set; retrying")
                await asyncio.sleep(pause)
                pause = min(pause * 2, _POLL_PAUSE_MAX)
                continue
            except Exception as exc:  # network trouble, or the database: fetch them again
                log.warning("telegram: polling failed (%s), retrying", _describe(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, _POLL_PAUSE_MAX)
                continue
            pause = _POLL_PAUSE
            for update in updates:
                if fresh is None or update.update_id in fresh:
                    await app.update_queue.put(update)
            if updates:
                self._offset = updates[-1].update_id + 1

    async def _admit(self, updates: Sequence[Update]) -> set[int] | None:
        """Journal `updates`; the ids to process (None: no journal, all of them)."""
        if self._journal is None or not updates:
            return None
        keys = await self._journal.admit([(str(u.update_id), u.to_json()) for u in updates])
        return {int(key) for key in keys}

    async def _replay(self, pending: Sequence[JournaledUpdate]) -> None:
        """Process again updates that were journaled but never finished."""
        app = self._require_app()
        for stored in pending:
            try:
                update = Update.de_json(json.loads(stored.payload), app.bot)
            except Exception as exc:
                log.error("telegram: journaled update %s unreadable (%s)", stored.key, exc)
                if self._journal is not None:
                    await self._journal.done(stored.key)
                continue
            await app.update_queue.put(update)

    # ----------------------------------------------------------------- updates

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        # Done also after an error (it is logged; trying again would fail again), but not
        # when cancelled: then it stays pending in the journal and is taken up again.
        try:
            await self._process(update)
        except Exception:
            log.exception("telegram: update %s could not be processed", update.update_id)
        if self._journal is not None:
            await self._journal.done(str(update.update_id))

    async def _process(self, update: Update) -> None:
        if update.my_chat_member is not None:
            await self._on_member_change(update.my_chat_member)
            return
        app = self._app
        inbound = to_inbound(update, app.bot.username if app is not None else None)
        if inbound is None:
            log.debug("telegram: update %s ignored", update.update_id)
            return
        response = BotResponse()
        if inbound.incoming is not None:
            try:
                response = await self._handler(inbound.incoming)
            except Exception:
                log.exception("telegram: the message handler failed")
        try:
            await self._answer(inbound, response)
        except ChannelBlocked:
            await self._events.user_blocked(CHANNEL, str(inbound.chat_id))
        except ChannelError as exc:
            log.warning("telegram: answer not delivered: %s", exc)

    async def _on_member_change(self, change: ChatMemberUpdated) -> None:
        """In a private chat, "kicked" means the user blocked the bot."""
        if (
            change.chat.type == ChatType.PRIVATE
            and change.new_chat_member.status == ChatMemberStatus.BANNED
        ):
            await self._events.user_blocked(CHANNEL, str(change.chat.id))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram: error while processing update %s", update_id, exc_info=context.error)

    async def _answer(self, inbound: Inbound, response: BotResponse) -> None:
        """Deliver the response to an update; a button press is always acknowledged."""
        app = self._require_app()
        if inbound.callback_query_id is not None:
            query_id, notice = inbound.callback_query_id, response.notice
            try:
                await self._call(lambda: app.bot.answer_callback_query(query_id, text=notice))
            except ChannelPermanentError:
                log.info("telegram: callback query too old to answer")
        edit_id = inbound.message_id if inbound.callback_query_id is not None else None
        await self._deliver(
            inbound.chat_id, response.replies, response.language, edit_id, menu=response.menu
        )

    async def _deliver(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        language: str,
        edit_id: int | None = None,
        *,
        retry: bool = True,
        menu: tuple[str, ...] = (),
    ) -> None:
        """Send (or edit in place) `replies`, replacing a contact keyboard left open by the
        user's `menu` (or removing it, without one)."""
        steps: list[tuple[bool, Outgoing]] = []  # (edit the pressed message?, message)
        may_edit = edit_id is not None
        for reply in replies:
            messages = render(reply, language)
            if messages and reply.edit and may_edit and not reply.request_phone:
                steps.append((True, messages[0]))
                messages, may_edit = messages[1:], False
            steps.extend((False, message) for message in messages)
        if chat_id in self._keyboard_open:
            steps = _with_keyboard_removal(steps, menu_keyboard(menu) if menu else None)
        for is_edit, message in steps:
            if (
                is_edit
                and edit_id is not None
                and await self._edit(chat_id, edit_id, message, retry=retry)
            ):
                continue
            try:
                await self._send(chat_id, message.text, message.markup, retry=retry)
            except ChannelPermanentError as exc:
                if not retry:
                    raise
                log.warning("telegram: message refused: %s", exc)
                continue
            if isinstance(message.markup, ReplyKeyboardMarkup) and _asks_contact(message.markup):
                self._keyboard_open.add(chat_id)
            elif isinstance(message.markup, ReplyKeyboardMarkup | ReplyKeyboardRemove):
                # the menu keyboard replaced the contact keyboard, or it was removed
                self._keyboard_open.discard(chat_id)

    async def _send(self, chat_id: int, text: str, markup: Markup | None, *, retry: bool) -> None:
        app = self._require_app()
        await self._call(
            lambda: app.bot.send_message(chat_id, text, reply_markup=markup), retry=retry
        )

    async def _edit(self, chat_id: int, message_id: int, message: Outgoing, *, retry: bool) -> bool:
        """Replace the text of the message whose button was pressed; False if Telegram won't."""
        app = self._require_app()
        try:
            await self._call(
                lambda: app.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=message.inline,
                ),
                retry=retry,
            )
        except ChannelPermanentError as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("telegram: edit refused (%s), sending instead", exc)
            return False
        return True

    # ----------------------------------------------------------------- pushes

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        """Push `replies` to a user (see `bot.push.Sender`); no retries here."""
        try:
            chat_id = int(channel_user_id)
        except ValueError:
            raise ChannelPermanentError("not a Telegram user id") from None
        await self._deliver(chat_id, replies, "vi", retry=False)

    # ----------------------------------------------------------------- Bot API calls

    def _require_app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            raise RuntimeError("the Telegram channel is not started")
        return self._app

    async def _call(self, request: Callable[[], Awaitable[_T]], *, retry: bool = True) -> _T:
        """Make a Bot API call, retried per the policy; errors mapped to channel errors."""
        policy = self._retry
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= policy.attempts or not retry
            try:
                # Wait here rather than in httpcore's pool, whose queue costs O(n²) to scan.
                async with self._api_slots:
                    return await request()
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if last or wait > policy.max_retry_after:
                    raise ChannelRetryAfter(wait) from exc
                log.info("telegram: flood control, waiting %.1f s", wait)
                await asyncio.sleep(wait)
            except Forbidden as exc:
                raise ChannelBlocked(str(exc)) from exc
            except BadRequest as exc:
                if "chat not found" in str(exc).lower():
                    raise ChannelBlocked(str(exc)) from exc
                raise ChannelPermanentError(str(exc)) from exc
            except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
                if last:
                    raise ChannelTemporaryError(str(exc)) from exc
                wait = policy.backoff * 2 ** (attempt - 1)
                log.info("telegram: %s, retrying in %.1f s", type(exc).__name__, wait)
                await asyncio.sleep(wait)
            except (ChatMigrated, TelegramError) as exc:
                raise ChannelPermanentError(str(exc)) from exc


def _asks_contact(markup: ReplyKeyboardMarkup) -> bool:
    """Whether a reply keyboard is the "share my phone number" one (not the menu)."""
    return any(button.request_contact for row in markup.keyboard for button in row)


def _with_keyboard_removal(
    steps: list[tuple[bool, Outgoing]], menu: ReplyKeyboardMarkup | None = None
) -> list[tuple[bool, Outgoing]]:
    """`steps` with one sent message taking the contact keyboard away, where Telegram allows
    it: replacing it by the user's `menu` keyboard (so the persistent menu comes back), or
    with ReplyKeyboardRemove when there is no menu.

    A message carries one keyboard: the change goes on the first message sent without one;
    failing that, the first message with an inline keyboard and several paragraphs is split
    after its first paragraph, which carries it. Otherwise (or when the answer shows a reply
    keyboard itself) nothing changes and a later answer takes the keyboard away.
    """
    replacement: Markup = menu if menu is not None else ReplyKeyboardRemove()
    sent = [message for is_edit, message in steps if not is_edit]
    if any(isinstance(message.markup, ReplyKeyboardMarkup) for message in sent):
        return steps
    for index, (is_edit, message) in enumerate(steps):
        if not is_edit and message.markup is None:
            changed = Outgoing(message.text, replacement)
            return [*steps[:index], (False, changed), *steps[index + 1 :]]
    for index, (is_edit, message) in enumerate(steps):
        head, separator, tail = message.text.partition("\n\n")
        if not is_edit and separator and head.strip() and tail.strip():
            split = [
                (False, Outgoing(head, replacement)),
                (False, Outgoing(tail, message.markup)),
            ]
            return [*steps[:index], *split, *steps[index + 1 :]]
    return steps


def _opt_in_to_timedelta_periods() -> None:
    """Take python-telegram-bot's coming time periods as `timedelta` now (its documented
    ``PTB_TIMEDELTA`` switch, read whenever it builds a period): without it, 22.x warns
    (PTBDeprecationWarning) each time it builds a `RetryAfter`, i.e. on every flood-control
    answer. Done when a channel is built, not when this module is imported, and an operator's
    own setting of the variable is kept."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a `RetryAfter` asks for, in seconds (without python-telegram-bot's warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _describe(exc: BaseException) -> str:
    """A short description of a failure for a log line (no traceback: it is expected)."""
    return f"{type(exc).__name__}: {exc}"[:200]
