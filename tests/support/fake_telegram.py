"""A fake Telegram Bot API server: real HTTP on loopback, for python-telegram-bot to talk to.

Serves ``/bot{token}/{method}`` for getMe, getUpdates (long polling with offset and timeout),
setWebhook, deleteWebhook, getWebhookInfo, sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, setMyCommands and deleteMyCommands, with bodies
as JSON, form or multipart (python-telegram-bot sends forms) and answers shaped like the real
API's (``{"ok": true, "result": …}`` / ``{"ok": false, "error_code": …, "description": …}``).

Tests play the citizens: `send_text`, `press_button`, `share_contact`, `send_sticker`,
`send_update`. Updates are queued for getUpdates, or POSTed to the webhook (with the secret
header) once the bot has set one. What the bot sent is recorded per chat (`messages`,
`wait_for_messages`). Failures are injected with `fail`; `rate_limit` turns on flood control.

Usage::

    fake = FakeTelegram()
    async with fake.serve():
        channel = TelegramChannel(fake.token, fake.api_url, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import RunningServer, serve_in_loop

JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "entities",
    "link_preview_options",
    "reply_parameters",
}
INT_PARAMS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "max_connections",
    "cache_time",
    "user_id",
}
BOOL_PARAMS = {"drop_pending_updates", "show_alert", "disable_notification"}
SEND_METHODS = {"sendMessage"}


@dataclass
class SentMessage:
    """A message the bot sent to a chat, as it stands now (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    date: int
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of (label, callback data)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """The reply keyboard's rows of buttons, if the message carries one."""
        return list((self.reply_markup or {}).get("keyboard", []))

    @property
    def removes_keyboard(self) -> bool:
        """Whether the message removes the reply keyboard."""
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def payload_of(self, label: str) -> str:
        """The callback data of the button labelled `label` (substring match)."""
        for row in self.buttons:
            for text, data in row:
                if label in text:
                    return data
        raise KeyError(f"no button {label!r} in {self.buttons}")


@dataclass
class Failure:
    """An injected error answer for the next `times` calls of `method` (for `chat_id`)."""

    method: str
    status: int
    description: str
    times: int
    chat_id: int | None = None
    retry_after: int | None = None


@dataclass
class Call:
    """One Bot API call the fake received."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


class FakeTelegram:
    """The fake Bot API; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-token_fake",
        *,
        bot_id: int = 123456,
        bot_username: str = "motcua_test_bot",
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.server: RunningServer | None = None
        self.calls: list[Call] = []
        self.commands: dict[str | None, list[dict[str, str]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_statuses: list[int] = []  # every delivery attempt; 0: no answer
        self.webhook_errors: list[str] = []
        self.webhook_attempts = 1  # Telegram retries failed deliveries; benchmarks set more
        self._chats: dict[int, list[SentMessage]] = defaultdict(list)
        self._message_ids = itertools.count(1000)
        # Telegram's update ids start "from a certain positive number" and only grow.
        self._update_ids = itertools.count(first_update_id)
        self._user_message_ids = itertools.count(1)
        self._pending: deque[dict[str, Any]] = deque()
        self._new_update = asyncio.Event()
        self._changed = asyncio.Condition()
        self._failures: list[Failure] = []
        self._rate_global: int | None = None
        self._rate_chat: int | None = None
        self._sent_times: deque[float] = deque()
        self._chat_times: dict[int, deque[float]] = defaultdict(deque)
        self._hook_client: httpx.AsyncClient | None = None
        self._webhook_slots = asyncio.Semaphore(40)
        self._observers: list[Callable[[int, SentMessage], None]] = []
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._api, methods=["GET", "POST"])]
        )

    # ----------------------------------------------------------------- running

    @property
    def api_url(self) -> str:
        """What MOTCUA_TELEGRAM_API_URL is set to: the bot calls ``{api_url}/bot{token}/…``."""
        if self.server is None:
            raise RuntimeError("the fake is not serving")
        return self.server.url

    @contextlib.asynccontextmanager
    async def serve(self, port: int = 0) -> AsyncIterator[FakeTelegram]:
        """Serve on loopback (a free port by default) until the block ends."""
        async with (
            httpx.AsyncClient(timeout=10.0) as client,
            serve_in_loop(self.app, port=port) as server,
        ):
            self._hook_client = client
            self.server = server
            try:
                yield self
            finally:
                self._new_update.set()  # wake long polls so the server can stop
                self.server = None
                self._hook_client = None

    # ----------------------------------------------------------------- test controls

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error.

        429 answers carry ``parameters.retry_after`` (default 1 s).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        default = {
            400: "Bad Request: message can't be edited",
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after}",
        }.get(status, "Internal Server Error")
        self._failures.append(
            Failure(method, status, description or default, times, chat_id, retry_after)
        )

    def rate_limit(self, per_second: int | None = 30, per_chat_per_second: int | None = 1) -> None:
        """Flood control as Telegram documents it: 429 beyond these sendMessage rates."""
        self._rate_global = per_second
        self._rate_chat = per_chat_per_second

    def on_message(self, observer: Callable[[int, SentMessage], None]) -> Callable[[], None]:
        """Call `observer(chat_id, message)` whenever the bot sends a message (benchmarks).

        Returns the function that stops the calls.
        """
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    @property
    def unconfirmed(self) -> int:
        """Updates queued for getUpdates that the bot has not confirmed with its offset."""
        return len(self._pending)

    def messages(self, chat_id: int) -> list[SentMessage]:
        """What the bot has sent to `chat_id`, oldest first."""
        return list(self._chats.get(chat_id, []))

    def texts(self, chat_id: int) -> list[str]:
        """The texts of `messages(chat_id)`."""
        return [m.text for m in self.messages(chat_id)]

    def calls_of(self, method: str) -> list[Call]:
        """The calls of one Bot API method, oldest first."""
        return [c for c in self.calls if c.method == method]

    async def wait_for_messages(
        self, chat_id: int, count: int, within: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent `chat_id` at least `count` messages; those messages."""
        await self.wait_until(lambda: len(self._chats.get(chat_id, [])) >= count, within)
        return self.messages(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate()` holds, re-checked whenever the bot calls the API."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    # ----------------------------------------------------------------- citizens' actions

    def user(self, user_id: int, language_code: str | None = "vi") -> dict[str, Any]:
        """The User object of citizen `user_id`."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _private_chat(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "type": "private", "first_name": f"User{user_id}"}

    def _user_message(
        self, user_id: int, language_code: str | None, **content: Any
    ) -> dict[str, Any]:
        return {
            "message_id": next(self._user_message_ids),
            "from": self.user(user_id, language_code),
            "chat": self._private_chat(user_id),
            "date": int(time.time()),
            **content,
        }

    async def send_text(self, user_id: int, text: str, *, language_code: str | None = "vi") -> int:
        """Citizen `user_id` types `text`; the update id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.send_update(
            {"message": self._user_message(user_id, language_code, **content)}
        )

    async def press_button(
        self,
        user_id: int,
        message: SentMessage | int,
        data: str,
        *,
        language_code: str | None = "vi",
    ) -> int:
        """Citizen `user_id` presses a button with callback `data` under `message`."""
        if isinstance(message, int):
            message = next(m for m in self._chats[user_id] if m.message_id == message)
        message_obj: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": self._private_chat(user_id),
            "date": message.date,
            "text": message.text,
        }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            message_obj["reply_markup"] = message.reply_markup
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": self.user(user_id, language_code),
            "message": message_obj,
            "chat_instance": f"ci{user_id}",
            "data": data,
        }
        return await self.send_update({"callback_query": query})

    async def share_contact(
        self, user_id: int, phone: str, *, contact_user_id: int | None = -1
    ) -> int:
        """Citizen `user_id` shares a contact: their own by default, else `contact_user_id`'s.

        ``contact_user_id=None`` shares a contact card with no Telegram user behind it.
        """
        contact: dict[str, Any] = {"phone_number": phone, "first_name": f"User{user_id}"}
        owner = user_id if contact_user_id == -1 else contact_user_id
        if owner is not None:
            contact["user_id"] = owner
        return await self.send_update(
            {"message": self._user_message(user_id, "vi", contact=contact)}
        )

    async def send_sticker(self, user_id: int) -> int:
        """Citizen `user_id` sends a sticker."""
        sticker = {
            "file_id": "CAACAgIAAxk",
            "file_unique_id": "AgADxk",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self.send_update(
            {"message": self._user_message(user_id, "vi", sticker=sticker)}
        )

    async def send_update(self, update: dict[str, Any]) -> int:
        """Deliver an update (``update_id`` added): queued for getUpdates or POSTed to the hook.

        In webhook mode this returns after the bot answered the POST; its status is appended
        to `webhook_statuses`.
        """
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        if self.webhook_url is None:
            self._pending.append(update)
            self._new_update.set()
        else:
            await self._post_to_webhook(update)
        return update_id

    async def _post_to_webhook(self, update: dict[str, Any]) -> None:
        """POST like Telegram: a failed delivery (no answer, or not 2xx) is tried again."""
        assert self._hook_client is not None
        assert self.webhook_url is not None
        headers = {}
        if self.webhook_secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        for attempt in range(self.webhook_attempts):
            if attempt:
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))
            try:
                async with self._webhook_slots:
                    response = await self._hook_client.post(
                        self.webhook_url, json=update, headers=headers
                    )
            except httpx.HTTPError as exc:
                self.webhook_statuses.append(0)
                self.webhook_errors.append(repr(exc))
                continue
            self.webhook_statuses.append(response.status_code)
            if response.is_success:
                return

    # ----------------------------------------------------------------- the API

    async def _api(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        try:
            response = await self._dispatch(method, params)
        finally:
            async with self._changed:
                self._changed.notify_all()
        call.status = response.status_code
        return response

    async def _dispatch(self, method: str, params: dict[str, Any]) -> JSONResponse:
        failure = self._take_failure(method, params.get("chat_id"))
        if failure is not None:
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.description, extra)
        if method in SEND_METHODS:
            limited = self._flood_control(int(params["chat_id"]))
            if limited is not None:
                return limited
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        if isinstance(result, JSONResponse):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _take_failure(self, method: str, chat_id: Any) -> Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(chat_id):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    def _flood_control(self, chat_id: int) -> JSONResponse | None:
        now = time.monotonic()
        if self._rate_global is not None:
            while self._sent_times and now - self._sent_times[0] >= 1.0:
                self._sent_times.popleft()
            if len(self._sent_times) >= self._rate_global:
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if self._rate_chat is not None:
            times = self._chat_times[chat_id]
            while times and now - times[0] >= 1.0:
                times.popleft()
            if len(times) >= self._rate_chat:
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            times.append(now)
        if self._rate_global is not None:
            self._sent_times.append(now)
        return None

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Một cửa",
            "username": self.bot_username,
        }

    async def _m_getMe(self, _params: dict[str, Any]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url is not None:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            while self._pending and offset and self._pending[0]["update_id"] < offset:
                self._pending.popleft()  # confirmed by the offset
            if self._pending or self.server is None:
                return list(itertools.islice(self._pending, limit))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = params.get("url") or None
        self.webhook_secret = params.get("secret_token")
        # Telegram opens at most max_connections (default 40) simultaneous webhook requests.
        self._webhook_slots = asyncio.Semaphore(int(params.get("max_connections") or 40))
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_getWebhookInfo(self, _params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[params.get("language_code") or None] = list(params["commands"])
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(params.get("language_code") or None, None)
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text") or "")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        message = SentMessage(next(self._message_ids), chat_id, text, markup, int(time.time()))
        self._chats[chat_id].append(message)
        for observer in self._observers:
            observer(chat_id, message)
        return self._message_json(message)

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        if isinstance(message, JSONResponse):
            return message
        text = str(params.get("text") or "")
        markup = params.get("reply_markup")
        if text == message.text and markup == message.reply_markup:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same",
            )
        message.edits.append(message.text)
        message.text = text
        message.reply_markup = markup
        return self._message_json(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        if isinstance(message, JSONResponse):
            return message
        message.reply_markup = params.get("reply_markup")
        return self._message_json(message)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.callback_answers.append(params)
        return True

    def _find(self, params: dict[str, Any]) -> SentMessage | JSONResponse:
        chat_id = int(params.get("chat_id") or 0)
        message_id = int(params.get("message_id") or 0)
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return _error(400, "Bad Request: message to edit not found")

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": self._private_chat(message.chat_id),
            "date": message.date,
            "text": message.text,
        }
        if message.edits:
            data["edit_date"] = int(time.time())
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data


async def _params(request: Request) -> dict[str, Any]:
    """The call's parameters, from a query string, a JSON body or a form."""
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        body = await request.body()
        if body:
            params.update(json.loads(body))
        return params
    if request.method == "POST" and "application/x-www-form-urlencoded" in content_type:
        form = (await request.body()).decode()
        for key, value in urllib.parse.parse_qsl(form, keep_blank_values=True):
            params[key] = _decode(key, value)
    return params


def _decode(key: str, value: str) -> Any:
    if key in JSON_PARAMS:
        return json.loads(value)
    if key in INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            return value
    if key in BOOL_PARAMS:
        return value.lower() in {"true", "1"}
    return value


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)
