"""``motcua run``: the configured channels, the watcher, the dispatcher and the web server.

Everything is wired from the settings here; it runs until SIGTERM or Ctrl-C and then stops
each part in the reverse order, letting deliveries in flight finish.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any

from starlette.routing import BaseRoute

from bot.caseapi.client import HttpCaseApi
from bot.channel_events import StoredChannelEvents
from bot.composition import (
    Runtime,
    background_case_api,
    notice_renderers,
    open_runtime,
    watcher_schedule,
)
from bot.errors import OperatorError
from bot.housekeeping import run_periodically
from bot.logs import configure_logging
from bot.messages import Channel
from bot.notify.dispatcher import Dispatcher
from bot.notify.leader import LeaseLeaderLock, lease_for
from bot.notify.throttle import DEFAULT_LIMITS, ChannelLimit, limit_for
from bot.notify.watcher import Watcher
from bot.office.wiring import workspace_routes
from bot.ops.health import HealthChecks
from bot.ops.metered import MeteredCaseApi, MeteredLeaderLock, metered_sender
from bot.push import Sender
from bot.settings import Settings
from bot.storage.delivery import OutboxDeliveryQueue
from bot.storage.leader import advisory_lock_for
from bot.storage.readiness import schema_status
from bot.web import case_events
from bot.web.app import build_web_app
from bot.web.ops import ops_routes
from bot.web.serve import serve_in_loop

log = logging.getLogger(__name__)


def add_parser(commands: Any) -> None:
    """Add ``motcua run``."""
    parser = commands.add_parser(
        "run", help="serve citizens on the configured channels until SIGTERM"
    )
    parser.set_defaults(run=run)


class _Parts:
    """What `run` started, to stop in reverse order."""

    def __init__(self) -> None:
        self.stack = contextlib.AsyncExitStack()
        self.routes: list[BaseRoute] = []
        self.senders: dict[str, Sender] = {}


class NoChannel(OperatorError):
    """`motcua run` without any chat channel configured."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__(
            "no chat channel is configured: set MOTCUA_TELEGRAM_TOKEN for Telegram, or "
            "MOTCUA_ZALO_APP_ID, MOTCUA_ZALO_APP_SECRET and MOTCUA_ZALO_OA_SECRET for Zalo "
            "(see docs/settings.md)"
        )


async def run(_args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGTERM / SIGINT; 0 on a clean stop."""
    if not settings.channels:
        raise NoChannel()
    configure_logging(settings.log_level, fmt=settings.log_format)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings) as runtime, serving(runtime) as channels:
        log.info("motcua is running (%s)", ", ".join(channels) or "no chat channel configured")
        await stop.wait()
        log.info("stopping")
    return 0


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[list[str]]:
    """Start every configured part around `runtime`; yield the chat channels served."""
    settings = runtime.settings
    parts = _Parts()
    async with parts.stack:
        events = StoredChannelEvents(runtime.uow_factory, runtime.clock)
        await _telegram(runtime, events, parts)
        await _zalo(runtime, events, parts)

        metrics = runtime.metrics
        watcher = await build_watcher(runtime, parts.stack)
        if settings.case_events_secret is not None:
            parts.routes += case_events.routes(
                watcher, settings.case_events_secret.get_secret_value()
            )
        dispatcher = build_dispatcher(runtime, parts.senders)
        metrics.watch_figures(runtime.figures)
        health = HealthChecks(
            schema=lambda: schema_status(runtime.engine),
            breaker_state=_chat_breaker_state(runtime),
            require_case_api=settings.ready_requires_case_api,
        )
        parts.routes += workspace_routes(runtime)
        app = build_web_app([*ops_routes(health, metrics), *parts.routes])
        await parts.stack.enter_async_context(
            serve_in_loop(app, settings.http_host, settings.http_port, log_level="info")
        )
        jobs = watcher_schedule(watcher, poll_interval=settings.poll_interval)
        await jobs.start()
        parts.stack.push_async_callback(watcher.release)
        parts.stack.push_async_callback(jobs.stop)
        await dispatcher.start()
        parts.stack.push_async_callback(dispatcher.stop)
        _start_housekeeping(runtime, parts)
        yield list(parts.senders)


async def build_watcher(runtime: Runtime, stack: contextlib.AsyncExitStack) -> Watcher:
    """The watcher for `runtime`'s settings, on its own background case API client (closed
    with `stack`), counted in `runtime.metrics` (latency, lag, leadership)."""
    settings, metrics = runtime.settings, runtime.metrics
    progress = metrics.watcher_progress()
    background_api = background_case_api(settings)
    stack.push_async_callback(background_api.aclose)
    metrics.watch_breaker("watcher", lambda: background_api.breaker.state.value)
    leader = advisory_lock_for(runtime.engine) or LeaseLeaderLock(
        runtime.uow_factory, runtime.clock, ttl=lease_for(settings.poll_interval)
    )
    return Watcher(
        runtime.uow_factory,
        MeteredCaseApi(background_api, metrics, "watcher", progress),
        runtime.clock,
        leader_lock=MeteredLeaderLock(leader, progress),
        poll_interval=settings.poll_interval,
        reminder_days=settings.reminder_day_list,
        survey_delay=timedelta(seconds=settings.survey_delay),
        survey_ttl=timedelta(seconds=settings.survey_ttl),
    )


def build_dispatcher(runtime: Runtime, senders: Mapping[str, Sender]) -> Dispatcher:
    """The dispatcher for `runtime`'s settings over `senders` ({channel: Sender}), each
    counted in `runtime.metrics`."""
    settings, metrics = runtime.settings, runtime.metrics
    return Dispatcher(
        OutboxDeliveryQueue(runtime.uow_factory),
        {name: metered_sender(sender, metrics, name) for name, sender in senders.items()},
        runtime.clock,
        renderers=notice_renderers(),
        tz=settings.tz,
        office_name=settings.office_name,
        quiet_hours=settings.quiet_window,
        limits=send_limits(settings),
    )


def _chat_breaker_state(runtime: Runtime) -> Callable[[], str] | None:
    """The chat case API's breaker state, when the runtime's client has one."""
    api = runtime.case_api
    if isinstance(api, HttpCaseApi):
        breaker = api.breaker
        return lambda: breaker.state.value
    return None


def _start_housekeeping(runtime: Runtime, parts: _Parts) -> None:
    """Housekeeping every hour (`bot.housekeeping`), cancelled on stop."""
    task = asyncio.create_task(
        run_periodically(runtime.uow_factory, runtime.clock),
        name="motcua-housekeeping",
    )

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    parts.stack.push_async_callback(stop)


def send_limits(settings: Settings) -> dict[str, ChannelLimit]:
    """The dispatcher's sending limits: each channel's default, at the configured rate."""
    rates = {Channel.TELEGRAM: settings.telegram_send_rate, Channel.ZALO: settings.zalo_send_rate}
    return {
        channel: dataclasses.replace(limit_for(DEFAULT_LIMITS, channel), per_second=rate)
        for channel, rate in rates.items()
    }


async def _telegram(runtime: Runtime, events: StoredChannelEvents, parts: _Parts) -> None:
    settings = runtime.settings
    if settings.telegram_token is None:
        return
    from bot.channels.telegram.channel import TelegramChannel
    from bot.handlers.commands import command_descriptions

    secret = settings.telegram_webhook_secret
    channel = TelegramChannel(
        settings.telegram_token.get_secret_value(),
        settings.telegram_api_url,
        runtime.handler,
        events,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else None,
        journal=runtime.inbound.for_channel(Channel.TELEGRAM),
        commands=command_descriptions,
    )
    await channel.start()
    parts.stack.push_async_callback(channel.stop)
    parts.routes += channel.routes()
    parts.senders[Channel.TELEGRAM] = channel


async def _zalo(runtime: Runtime, events: StoredChannelEvents, parts: _Parts) -> None:
    from bot.channels.zalo.wiring import build_zalo_channel, zalo_configured

    if not zalo_configured(runtime.settings):
        return
    channel = build_zalo_channel(
        runtime.settings,
        uow_factory=runtime.uow_factory,
        clock=runtime.clock,
        handler=runtime.handler,
        events=events,
        journal=runtime.inbound.for_channel(Channel.ZALO),
    )
    await channel.start()
    parts.stack.push_async_callback(channel.stop)
    parts.routes += channel.routes()
    parts.senders[Channel.ZALO] = channel
