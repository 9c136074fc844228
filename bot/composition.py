"""The composition root: every adapter is built and wired here, from the settings.

Nothing else in the project constructs an engine, an HTTP client or a channel. Tests build
the same graph with `open_runtime`, pointing the settings at loopback fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from bot.caseapi.client import HttpCaseApi
from bot.core import APOLOGY, ChatCore
from bot.domain.notice_kinds import NoticeKind
from bot.errors import OperatorError
from bot.handlers import survey
from bot.handlers.context import CoreConfig, Dependencies
from bot.i18n import gettext_for
from bot.inbound import InboundJournal
from bot.messages import MessageHandler
from bot.notify import feedback_reply, notices
from bot.notify.rendering import NoticeRenderers, Renderer
from bot.notify.watcher import Watcher
from bot.ops.metered import MeteredCaseApi, MeteredHandler
from bot.ops.metrics import Metrics
from bot.ports import CaseApi, Clock, OperationalFigures, SystemClock, UnitOfWorkFactory
from bot.schedule import JobSchedule
from bot.settings import Settings
from bot.storage.engine import DatabaseEngine, create_engine, is_sqlite
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.understanding import Matcher, default_matcher
from bot.understanding.matcher import office_phrase_files
from bot.usage import FLUSH_EVERY_SECONDS, LookupTally

log = logging.getLogger(__name__)


def notice_renderers() -> NoticeRenderers:
    """The renderer of every notice kind: the watcher's, the survey's invitation and the
    officials' replies to feedback.

    A new notice kind gets its renderer added here (and a `NoticeKind` member).
    """
    renderers: dict[str, Renderer] = {str(kind): r for kind, r in notices.RENDERERS.items()}
    renderers[NoticeKind.SURVEY_INVITATION] = survey.render_invitation
    renderers[NoticeKind.FEEDBACK_REPLY] = feedback_reply.render_feedback_reply
    return NoticeRenderers(renderers)


def office_matcher(settings: Settings) -> Matcher:
    """The matcher of typed messages: the bundled phrases, with the office's own if
    MOTCUA_PHRASES_DIR names a folder; OperatorError (one line) for a file it cannot read."""
    if settings.phrases_dir is None:
        return default_matcher()
    try:
        return Matcher(office_phrase_files(settings.phrases_dir))
    except ValueError as exc:
        raise OperatorError(f"MOTCUA_PHRASES_DIR: {exc}") from None


def core_config(settings: Settings, *, server_secret: str = "") -> CoreConfig:
    """The conversation core's knobs, from the settings (`server_secret`: see
    `resolve_server_secret`)."""
    secret = settings.deep_link_secret
    return CoreConfig(
        tz=settings.tz,
        default_language=settings.default_language,
        deep_link_secret=secret.get_secret_value() if secret else None,
        server_secret=server_secret,
        lookup_limit_per_minute=settings.lookup_limit_per_minute,
        lookup_limit_per_hour=settings.lookup_limit_per_hour,
        pin_attempts_per_dossier=settings.pin_attempts_per_dossier,
        pin_attempts_per_user=settings.pin_attempts_per_user,
        pin_lockout_minutes=settings.pin_lockout_minutes,
        pin_backoff_max_minutes=settings.pin_backoff_max_minutes,
        survey_delay_seconds=settings.survey_delay,
        survey_ttl_seconds=settings.survey_ttl,
        context_ttl_seconds=settings.context_ttl,
        office_name=settings.office_name,
        office_address=settings.office_address,
        office_phone=settings.office_phone,
        office_hours=settings.office_hours,
    )


async def resolve_server_secret(settings: Settings, uow_factory: UnitOfWorkFactory) -> str:
    """MOTCUA_SERVER_SECRET, or else a random one generated on first start and kept in the
    database, so every process of the deployment keys its hashes alike."""
    if settings.server_secret is not None:
        return settings.server_secret.get_secret_value()
    async with uow_factory() as uow:
        stored = await uow.secrets.get_or_create("server", secrets.token_urlsafe(32))
        await uow.commit()
    return stored


def chat_case_api(settings: Settings) -> HttpCaseApi:
    """The case API client for citizens waiting in a chat: a short deadline (answer ≤ 3 s)."""
    return HttpCaseApi(
        settings.case_api_url,
        settings.case_api_token.get_secret_value(),
        connect_timeout=min(settings.case_api_connect_timeout, settings.case_api_chat_timeout),
        request_timeout=settings.case_api_chat_timeout,
    )


def background_case_api(settings: Settings) -> HttpCaseApi:
    """The case API client for background work (the watcher): the contract's full timeouts."""
    return HttpCaseApi(
        settings.case_api_url,
        settings.case_api_token.get_secret_value(),
        connect_timeout=settings.case_api_connect_timeout,
        request_timeout=settings.case_api_timeout,
    )


# The inbound journal's own connections on PostgreSQL: its group commit writes on one at a
# time, its upkeep (recovery, lease renewal, purge) on the other.
JOURNAL_CONNECTIONS = 2


@dataclass
class Runtime:
    """The wired application graph."""

    settings: Settings
    engine: DatabaseEngine
    uow_factory: SqlUnitOfWorkFactory
    case_api: CaseApi
    clock: Clock
    core: ChatCore
    metrics: Metrics
    # The core as the channels call it: counted, each message with a fresh log context.
    handler: MessageHandler
    inbound: InboundJournal
    #: Lookups counted for the usage page, written every few seconds and on close.
    lookups: LookupTally
    #: Units of work that only read (reports, the operator's figures): on SQLite they take
    #: no write lock, so they never queue behind the chat.
    reports: SqlUnitOfWorkFactory
    #: The deployment's server secret (`resolve_server_secret`), which keys the limits.
    server_secret: str

    async def figures(self) -> OperationalFigures:
        """The operator's figures, now (read at each ``/metrics`` scrape)."""
        async with self.reports() as uow:
            return await uow.figures.read(self.clock.now())


@dataclass(frozen=True, slots=True)
class UnitsOfWork:
    """The kinds of unit of work the graph uses, all on one storage."""

    #: Longer transactions that must not stall the loop: the watcher, the outbox, upkeep.
    batches: UnitOfWorkFactory
    #: One short transaction per chat message (on SQLite, run on the loop's thread).
    chat: UnitOfWorkFactory
    #: Reads that never queue behind the writers: reports, the operator's figures.
    reports: UnitOfWorkFactory
    #: The inbound journal's group commits, which a platform's acknowledgement waits for.
    journal: UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ChatGraph:
    """The conversation as the channels use it, over some `UnitsOfWork`."""

    case_api: CaseApi  # the client the core asks, before metering
    core: ChatCore
    metrics: Metrics
    # The core as the channels call it: counted, each message with a fresh log context.
    handler: MessageHandler
    inbound: InboundJournal
    #: Lookups counted for the usage page, written every few seconds and on close.
    lookups: LookupTally
    #: The deployment's server secret (`resolve_server_secret`), which keys the limits.
    server_secret: str


@contextlib.asynccontextmanager
async def open_chat_graph(
    settings: Settings, units: UnitsOfWork, clock: Clock, *, case_api: CaseApi | None = None
) -> AsyncIterator[ChatGraph]:
    """Wire the core, its metering, the inbound journal and the lookup tally over `units`
    (the case API client from the settings unless `case_api` is given); on exit write the
    tally and close what was opened here."""
    own_client = case_api is None
    raw_api: CaseApi = case_api if case_api is not None else chat_case_api(settings)
    metrics = Metrics()
    if isinstance(raw_api, HttpCaseApi):
        breaker = raw_api.breaker
        metrics.watch_breaker("chat", lambda: breaker.state.value)
    lookups = LookupTally()
    flushing: asyncio.Task[None] | None = None
    try:
        server_secret = await resolve_server_secret(settings, units.batches)
        deps = Dependencies(
            case_api=MeteredCaseApi(raw_api, metrics, "chat"),
            clock=clock,
            config=core_config(settings, server_secret=server_secret),
            uow_factory=units.chat,
            lookups=lookups,
            matcher=office_matcher(settings),
        )
        core = ChatCore(deps)
        flushing = asyncio.create_task(
            lookups.flush_every(units.batches, FLUSH_EVERY_SECONDS), name="motcua-lookup-tally"
        )
        apologies = {gettext_for(language)(APOLOGY) for language in ("vi", "en")}
        yield ChatGraph(
            case_api=raw_api,
            core=core,
            metrics=metrics,
            handler=MeteredHandler(core, metrics, apologies),
            # Short transactions, grouped: the chat's kind of unit of work.
            inbound=InboundJournal(
                units.journal, clock, lease=timedelta(seconds=settings.inbound_lease)
            ),
            lookups=lookups,
            server_secret=server_secret,
        )
    finally:
        if flushing is not None:
            flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flushing
            try:
                await lookups.flush(units.batches)
            except Exception:
                log.exception("could not write the last %d counted lookups", lookups.pending)
        if own_client and isinstance(raw_api, HttpCaseApi):
            await raw_api.aclose()


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    case_api: CaseApi | None = None,
    migrate: bool = True,
) -> AsyncIterator[Runtime]:
    """Build the graph on the settings' database (migrating it first), and close it all on
    exit."""
    if migrate:
        await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    clock = clock or SystemClock()
    uow_factory = SqlUnitOfWorkFactory.for_batches(engine, clock)
    reports = SqlUnitOfWorkFactory.for_reports(engine, clock)
    chat_units = SqlUnitOfWorkFactory.for_chat(engine, clock)
    # On PostgreSQL the journal has connections of its own: in a burst every pooled
    # connection is busy with conversations, and a webhook's 200 (or the polling offset)
    # waited in line behind them. SQLite has one writer whatever the pool: its journal
    # shares the chat's queue for the write lock.
    journal_engine: DatabaseEngine | None = None
    journal_units = chat_units
    if not is_sqlite(engine):
        journal_engine = create_engine(settings.database_url, pool_size=JOURNAL_CONNECTIONS)
        journal_units = SqlUnitOfWorkFactory.for_chat(journal_engine, clock)
    units = UnitsOfWork(
        batches=uow_factory, chat=chat_units, reports=reports, journal=journal_units
    )
    try:
        async with open_chat_graph(settings, units, clock, case_api=case_api) as chat:
            yield Runtime(
                settings=settings,
                engine=engine,
                uow_factory=uow_factory,
                case_api=chat.case_api,
                clock=clock,
                core=chat.core,
                metrics=chat.metrics,
                handler=chat.handler,
                inbound=chat.inbound,
                lookups=chat.lookups,
                reports=reports,
                server_secret=chat.server_secret,
            )
    finally:
        await engine.dispose()
        if journal_engine is not None:
            await journal_engine.dispose()


def watcher_schedule(
    watcher: Watcher, *, poll_interval: float, sweep_interval: float = 300.0
) -> JobSchedule:
    """The watcher's periodic jobs: a poll cycle every `poll_interval` seconds (the first at
    once) and the sweep every `sweep_interval`. Stop it, then ``watcher.release()``."""
    schedule = JobSchedule()
    schedule.every(poll_interval, watcher.poll_once, name="watcher-poll", first_now=True)
    schedule.every(sweep_interval, watcher.sweep, name="watcher-sweep")
    return schedule
