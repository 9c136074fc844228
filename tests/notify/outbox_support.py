"""Helpers for the outbox and dispatcher tests: a test notice kind, users, queued notices,
reading rows back, and senders for our own seam (`bot.push.Sender`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.channels.telegram import TelegramChannel
from bot.composition import notice_renderers
from bot.messages import Incoming, Reply, Response
from bot.notify.rendering import RenderContext
from bot.ports import Notice, UnitOfWorkFactory
from bot.push import PushDetails
from bot.storage import probe
from bot.storage.delivery import OutboxDeliveryQueue
from bot.storage.engine import DatabaseEngine
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.storage.uow import SqlUnitOfWorkFactory

KIND = "test.notice"
T0 = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def render_test_notice(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
    """``Thông báo số N`` / ``Notice N``: the language is the user's at send time."""
    label = "Notice" if ctx.language == "en" else "Thông báo số"
    return [Reply(f"{label} {params['n']}")]


RENDERERS = notice_renderers().with_kind(KIND, render_test_notice)
"""What the dispatchers of the tests word notices with: the project's and the test kind's."""


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


Store = DatabaseEngine | MemoryUnitOfWorkFactory
"""Where the tests' outbox lives: a migrated database, or the in-memory twin."""


def factory_of(store: Store) -> UnitOfWorkFactory:
    """Units of work on `store`."""
    return SqlUnitOfWorkFactory(store) if isinstance(store, DatabaseEngine) else store


async def make_users(
    engine: Store,
    count: int,
    *,
    channel: str = "telegram",
    first_id: int = 10_000,
    language: str = "vi",
) -> list[int]:
    """Create `count` chat users with channel ids first_id, first_id+1, …; our user ids."""
    factory = factory_of(engine)
    ids: list[int] = []
    async with factory() as uow:
        for i in range(count):
            user = await uow.users.get_or_create(
                channel, str(first_id + i), language=language, now=T0
            )
            ids.append(user.id)
        await uow.commit()
    return ids


def notice(user_id: int, n: int, **options: Any) -> Notice:
    """The test notice number `n` for a user (dedup key ``t:<user>:<n>``)."""
    return Notice(
        user_id=user_id,
        kind=options.pop("kind", KIND),
        dedup_key=options.pop("dedup_key", f"t:{user_id}:{n}"),
        dossier_code=options.pop("dossier_code", "000.00.15.H12-250314-0001"),
        params={"n": n},
        **options,
    )


async def enqueue(engine: Store, notices: Sequence[Notice], now: datetime = T0) -> int:
    """Queue notices in one unit of work; how many were new."""
    async with factory_of(engine)() as uow:
        new = await uow.outbox.enqueue_many(notices, now=now)
        await uow.commit()
    return new


async def rows(engine: Store) -> list[dict[str, Any]]:
    """Every outbox row, by id."""
    return await probe.outbox_rows(engine)


async def states(engine: Store) -> dict[str, int]:
    """Row counts by state (every state)."""
    async with factory_of(engine)() as uow:
        return {state.value: count for state, count in (await uow.outbox.counts()).items()}


def queue_of(engine: Store) -> OutboxDeliveryQueue:
    """The delivery queue a dispatcher takes its notices from, on `engine`'s outbox."""
    return OutboxDeliveryQueue(factory_of(engine))


async def is_blocked(engine: Store, user_id: int) -> bool:
    """Whether the user is marked as having blocked the bot."""
    async with factory_of(engine)() as uow:
        user = await uow.users.get(user_id)
    assert user is not None
    return user.blocked


@dataclass
class RecordingSender:
    """A sender for our own seam: records what it was asked to send; raises what it is told."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (channel user id, text)
    errors: list[Exception] = field(default_factory=list)  # raised by the next sends, in order

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.extend((channel_user_id, r.text) for r in replies)


@dataclass
class TemplateRecordingSender(RecordingSender):
    """A sender that also has templates (like Zalo ZNS) for some kinds."""

    template_kinds: set[str] = field(default_factory=set)
    templates: list[tuple[str, PushDetails]] = field(default_factory=list)

    async def send_template(self, channel_user_id: str, details: PushDetails) -> bool:
        if details.kind not in self.template_kinds:
            return False
        self.templates.append((channel_user_id, details))
        return True


class _Events:
    async def user_blocked(self, channel: str, channel_user_id: str) -> None:
        return None


class _NoAnswer:
    async def __call__(self, incoming: Incoming) -> Response:
        return Response()


class BotApi(Protocol):
    """Where a Bot API (the fake, maybe in another process) is."""

    @property
    def api_url(self) -> str: ...

    @property
    def token(self) -> str: ...


@dataclass(frozen=True)
class RemoteBotApi:
    """A fake Bot API served by another process."""

    api_url: str
    token: str


@contextlib.asynccontextmanager
async def telegram_sender(fake: BotApi) -> AsyncIterator[TelegramChannel]:
    """The real Telegram channel (python-telegram-bot) started against the fake Bot API."""
    channel = TelegramChannel(
        fake.token, fake.api_url, _NoAnswer(), _Events(), poll_timeout=1.0, commands=None
    )
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
