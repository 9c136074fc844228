"""The Zalo Official Account channel: webhook in, consultation messages and ZNS out.

Inbound: ``POST /hooks/zalo`` reads at most `MAX_BODY_BYTES` (413 beyond, chunked bodies
included), checks the signature on the raw bytes before parsing anything (403), refuses an
event whose timestamp is further than `max_event_age` from now (a replay, 403), records the
delivery (a repeat is acknowledged and dropped), queues the event and answers 200 at once;
a background worker per user then hands the events of that user, in order, to the core and
sends the answers. After each answer the user's pushes held for a closed chat window are
released to the dispatcher.

Outbound (for the dispatcher): `send` (a `Sender`) sends consultation messages, which Zalo
allows within 7 days of the user's last interaction (else `ChannelWindowClosed`);
`send_template` (a `TemplateSender`) sends a ZNS template to the owner's verified phone.
An access token Zalo refuses (-216 / -220) is refreshed and the call retried once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.zalo import signature
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.errors import ZaloApiError, channel_error, is_token_error
from bot.channels.zalo.inbound import CHANNEL, MalformedEvent, parse_event, zns_phone
from bot.channels.zalo.render import Message, render
from bot.channels.zalo.store import TokenStore
from bot.channels.zalo.zns import VerifiedPhones, template_data, tracking_id
from bot.inbound import ChannelJournal
from bot.messages import ChannelEvents, Incoming, MessageHandler, Reply
from bot.ports import Clock, JournaledUpdate, UnitOfWorkFactory
from bot.push import (
    ChannelBlocked,
    ChannelError,
    ChannelRetryAfter,
    ChannelTemporaryError,
    PushDetails,
)
from bot.web.body import BodyRefused, MalformedJson, decode_json, read_limited, refusal

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/hooks/zalo"
MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_EVENT_AGE = timedelta(minutes=10)
_T = TypeVar("_T")


class ZaloChannel:
    """Serves citizens on a Zalo Official Account; a `Sender` and a `TemplateSender`."""

    def __init__(
        self,
        *,
        app_id: str,
        oa_secret: str,
        api: ZaloApi,
        tokens: TokenStore,
        journal: ChannelJournal,
        handler: MessageHandler,
        events: ChannelEvents,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        phones: VerifiedPhones,
        zns_templates: Mapping[str, str],
        tz: ZoneInfo | None = None,
        info_image_url: str | None = None,
        max_event_age: timedelta = DEFAULT_MAX_EVENT_AGE,
        max_concurrency: int = 64,
        reply_attempts: int = 3,
        reply_backoff: float = 0.5,
    ) -> None:
        if not app_id or not oa_secret:
            raise ValueError("the Zalo channel needs the app id and the OA secret key")
        self._app_id = app_id
        self._oa_secret = oa_secret
        self._api = api
        self._tokens = tokens
        self._journal = journal
        self._handler = handler
        self._events = events
        self._uow_factory = uow_factory
        self._clock = clock
        self._phones = phones
        self._templates = {kind.lower(): tid for kind, tid in zns_templates.items() if tid}
        self._tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self._info_image_url = info_image_url
        self._max_event_age = max_event_age
        self._slots = asyncio.Semaphore(max_concurrency)
        self._reply_attempts = max(1, reply_attempts)
        self._reply_backoff = reply_backoff
        self._queues: dict[str, deque[tuple[str, Incoming]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._accepting = False

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Accept webhook deliveries; take up those a crashed process left unanswered."""
        self._accepting = True
        await self._replay(await self._journal.recover())
        self._journal.start_upkeep(self._replay)

    async def stop(self, grace: float = 10.0) -> None:
        """Refuse new deliveries, let queued ones finish (up to `grace` s), close the API."""
        self._accepting = False
        await self._journal.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), grace)
        for task in self._workers.values():
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._api.aclose()

    async def drain(self) -> None:
        """Wait until every queued event has been handled."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    # ----------------------------------------------------------------- webhook

    def routes(self) -> list[BaseRoute]:
        """``POST /hooks/zalo``: Zalo's webhook deliveries, checked against the signature."""
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def _webhook(self, request: Request) -> Response:
        header = request.headers.get(signature.SIGNATURE_HEADER)
        if not header:
            log.warning("zalo: webhook delivery without a signature refused")
            return refusal(403, "forbidden")
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
        except BodyRefused as refused:
            log.warning("zalo: webhook body refused (%s)", refused)
            return refused.response
        timestamp = self._verified_timestamp(header, body)
        if timestamp is None:
            log.warning("zalo: webhook delivery with a bad signature refused")
            return refusal(403, "forbidden")
        try:
            data = decode_json(body)
        except MalformedJson as exc:
            log.warning("zalo: signed delivery that is not JSON refused (%s)", exc)
            return refusal(400, "bad request")
        if (
            not isinstance(data, dict)
            or _text(data.get("app_id")) != self._app_id
            or _text(data.get("timestamp")) != timestamp
        ):
            log.warning("zalo: signed delivery for another app or timestamp refused")
            return refusal(403, "forbidden")
        age = self._age(timestamp)
        if age is None or abs(age) > self._max_event_age:
            log.warning("zalo: stale or future delivery refused (age %s)", age)
            return refusal(403, "stale event")
        if not self._accepting:
            return refusal(503, "not ready")
        try:
            event = parse_event(data)
        except MalformedEvent as exc:
            log.warning("zalo: unreadable event acknowledged and dropped: %s", exc)
            return PlainTextResponse("ok")
        if event.incoming is None or event.user_id is None:
            log.debug("zalo: event %s ignored", event.name)
            return PlainTextResponse("ok")
        try:
            # Stored before the 200: a crash from here on loses nothing (`bot.inbound`).
            fresh = await self._journal.admit([(event.key, body.decode("utf-8", "replace"))])
        except Exception:
            log.exception("zalo: could not record a delivery; Zalo will retry it")
            return refusal(503, "unavailable")
        if not fresh:
            log.info("zalo: repeated delivery of %s ignored", event.name)
            return PlainTextResponse("ok")
        self._enqueue(event.user_id, event.key, event.incoming)
        return PlainTextResponse("ok")

    async def _replay(self, pending: Sequence[JournaledUpdate]) -> None:
        """Queue again deliveries that were stored but never answered (after a crash)."""
        for stored in pending:
            try:
                event = parse_event(json.loads(stored.payload))
            except (ValueError, MalformedEvent) as exc:
                log.error("zalo: stored delivery %s unreadable (%s)", stored.key, exc)
                await self._journal.done(stored.key)
                continue
            if event.incoming is None or event.user_id is None:
                await self._journal.done(stored.key)
                continue
            self._enqueue(event.user_id, stored.key, event.incoming)

    def _verified_timestamp(self, header: str, body: bytes) -> str | None:
        """The body's timestamp that makes `header` a valid signature, if one does."""
        for candidate in signature.timestamp_candidates(body):
            if signature.is_valid(header, self._app_id, body, candidate, self._oa_secret):
                return candidate
        return None

    def _age(self, timestamp: str) -> timedelta | None:
        """How old an event with Zalo's `timestamp` (milliseconds since 1970) is."""
        try:
            sent = datetime.fromtimestamp(int(timestamp) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            return None
        return self._clock.now() - sent

    def _enqueue(self, user_id: str, key: str, incoming: Incoming) -> None:
        queue = self._queues.setdefault(user_id, deque())
        queue.append((key, incoming))
        if user_id not in self._workers:
            self._workers[user_id] = asyncio.create_task(
                self._work(user_id, queue), name=f"zalo-user-{len(self._workers)}"
            )

    async def _work(self, user_id: str, queue: deque[tuple[str, Incoming]]) -> None:
        """Handle one user's events in arrival order, then end."""
        try:
            while queue:
                key, incoming = queue.popleft()
                async with self._slots:
                    try:
                        await self._handle(incoming)
                    except Exception:
                        log.exception("zalo: failed to handle an event")
                # Not reached when cancelled (a stop that could not wait): it stays pending
                # in the journal and is answered after the restart.
                await self._journal.done(key)
        finally:
            # No await between the empty check above and here: nothing can slip in.
            self._workers.pop(user_id, None)
            if not queue:
                self._queues.pop(user_id, None)

    async def _handle(self, incoming: Incoming) -> None:
        response = await self._handler(incoming)
        replies: list[Reply] = list(response.replies)
        if not replies and response.notice:
            replies = [Reply(response.notice)]
        try:
            await self._deliver(incoming.user_id, replies, response.language, retry=True)
        except ChannelBlocked:
            await self._events.user_blocked(CHANNEL, incoming.user_id)
        except ChannelError as exc:
            log.warning("zalo: answer not delivered: %s", exc)
        await self._release_held(incoming.user_id)

    async def _release_held(self, channel_user_id: str) -> None:
        """The user wrote, so the chat window is open again: free their held pushes."""
        try:
            async with self._uow_factory() as uow:
                user = await uow.users.get_or_create(
                    CHANNEL, channel_user_id, language="vi", now=self._clock.now()
                )
                released = await uow.outbox.release_held(user.id, now=self._clock.now())
                await uow.commit()
        except Exception:
            log.exception("zalo: could not release held pushes")
            return
        if released:
            log.info("zalo: %d held push(es) released for user %s", released, user.id)

    # ----------------------------------------------------------------- pushes

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        """Push `replies` to a user (see `bot.push.Sender`); no retries here."""
        await self._deliver(channel_user_id, replies, "vi", retry=False)

    async def send_template(self, channel_user_id: str, details: PushDetails) -> bool:
        """Send the ZNS template for `details`; False when no template or verified phone."""
        template_id = self._templates.get(details.kind.lower())
        if template_id is None or details.dossier_code is None:
            return False
        phone = await self._phones.verified_phone(details.user_id, details.dossier_code)
        target = zns_phone(phone) if phone else None
        if target is None:
            return False
        data = template_data(details, self._tz)
        track = tracking_id(details)
        await self._with_token(
            lambda token: self._api.send_zns(
                token,
                phone=target,
                template_id=template_id,
                template_data=data,
                tracking_id=track,
            )
        )
        log.info("zalo: ZNS %s sent to user %s", details.kind, details.user_id)
        return True

    # ----------------------------------------------------------------- delivery

    async def _deliver(
        self, user_id: str, replies: Sequence[Reply], language: str, *, retry: bool
    ) -> None:
        for reply in replies:
            for message in render(reply, language, info_image_url=self._info_image_url):
                await self._send_message(user_id, message, retry=retry)

    async def _send_message(self, user_id: str, message: Message, *, retry: bool) -> None:
        attempts = self._reply_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                await self._with_token(lambda token: self._api.send_cs(token, user_id, message))
                return
            except (ChannelTemporaryError, ChannelRetryAfter) as exc:
                if attempt == attempts:
                    raise
                wait = (
                    exc.retry_after
                    if isinstance(exc, ChannelRetryAfter)
                    else self._reply_backoff * 2 ** (attempt - 1)
                )
                if wait > 10:
                    raise
                log.info("zalo: %s, retrying in %.1f s", exc, wait)
                await asyncio.sleep(wait)

    async def _with_token(self, call: Callable[[str], Awaitable[_T]]) -> _T:
        """Make `call` with the access token; refresh once if Zalo says it is expired."""
        token = await self._tokens.access_token()
        try:
            return await call(token)
        except ZaloApiError as exc:
            if not is_token_error(exc.code):
                raise channel_error(exc.code, exc.message) from exc
            log.info("zalo: access token refused (%d), refreshing", exc.code)
        token = await self._tokens.refresh(token)
        try:
            return await call(token)
        except ZaloApiError as exc:
            raise channel_error(exc.code, exc.message) from exc


def _text(value: object) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)
    return ""
