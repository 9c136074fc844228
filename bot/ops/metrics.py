"""motcua's Prometheus metrics (``GET /metrics``), one registry per process.

**Per process, with a ``process`` label** (``host:pid``), not prometheus-client's
multiprocess mode. Multiprocess mode is for workers forked by one server on one machine
that share a directory of memory-mapped files; motcua's processes are separate services
(containers, systemd units) on one or several machines, each with its own web server, and
several figures are facts about one process (its circuit breaker, whether it leads the
watcher). So each process serves its own registry and Prometheus scrapes every replica; the
``process`` label keeps the series of two replicas apart even behind one address, and a
restart starts a new series (counters restart at zero, which ``rate()`` handles).

Figures read from the database (outbox, surveys, the Zalo token) are the same on every
process: aggregate them with ``max``, not ``sum``. See docs/deploy.md for the full list.

Nothing here is called from handlers or domain code: the adapters in `bot.ops.metered`
count at the boundaries (the message handler, the case API, the senders, the leader lock).
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

from bot.ports import OperationalFigures
from bot.version import version

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "WatcherProgress", "default_process_name"]

# Case API latency buckets (seconds): the chat deadline is 2.5 s, the background one 5 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BREAKER_STATES = ["closed", "open", "half_open"]


def default_process_name() -> str:
    """``host:pid``: unique among the processes of one deployment."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class WatcherProgress:
    """What the watcher's adapters saw: the last successful changes page, leadership."""

    last_page_at: float | None = None  # time.monotonic() of the last successful page
    leader: bool = False

    def lag(self, now: float) -> float:
        """Seconds since the last successful page; NaN on a stand-by or before the first."""
        if not self.leader or self.last_page_at is None:
            return math.nan
        return max(now - self.last_page_at, 0.0)


@dataclass
class _Sources:
    """What is read at scrape time."""

    breakers: dict[str, Callable[[], str]] = field(default_factory=dict)
    figures: Callable[[], Awaitable[OperationalFigures]] | None = None
    watcher: WatcherProgress | None = None


class Metrics:
    """The registry and every metric motcua exports; counters are moved by `bot.ops.metered`."""

    def __init__(self, process: str | None = None) -> None:
        self.process = process or default_process_name()
        self.registry = CollectorRegistry(auto_describe=True)
        self._sources = _Sources()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        labels = ["process"]
        r = self.registry
        Info("motcua_build", "The running motcua.", labels, registry=r).labels(self.process).info(
            {"version": version()}
        )
        self.messages = Counter(
            "motcua_messages",
            "Citizen messages handled, by channel and outcome "
            "(answered, apology = something failed and the citizen was told, silent).",
            [*labels, "channel", "outcome"],
            registry=r,
        )
        self.lookups = Counter(
            "motcua_lookups",
            "Dossier lookups asked of the case API while a citizen waits, by result "
            "(found, not_found, unavailable).",
            [*labels, "result"],
            registry=r,
        )
        self.case_api_seconds = Histogram(
            "motcua_case_api_request_seconds",
            "Case API calls, by client (chat, watcher), call and outcome.",
            [*labels, "client", "call", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.case_api_errors = Counter(
            "motcua_case_api_errors",
            "Case API calls that failed (unavailable, timeout, malformed, circuit open).",
            [*labels, "client", "call", "error"],
            registry=r,
        )
        self.breaker = Enum(
            "motcua_case_api_breaker",
            "State of the case API circuit breaker, per client.",
            [*labels, "client"],
            states=BREAKER_STATES,
            registry=r,
        )
        self.sends = Counter(
            "motcua_sends",
            "Pushes handed to a channel, by result (sent, retry_after = the channel's 429 "
            "flood control, blocked, refused, window_closed, temporary_error, timeout).",
            [*labels, "channel", "result"],
            registry=r,
        )
        self.outbox = Gauge(
            "motcua_outbox_notices",
            "Outbox rows by state (database-wide: aggregate with max).",
            [*labels, "state"],
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "motcua_outbox_oldest_waiting_age_seconds",
            "Age of the oldest push still waiting (queued or retrying); 0 when none.",
            labels,
            registry=r,
        )
        self.watcher_lag = Gauge(
            "motcua_watcher_lag_seconds",
            "Seconds since the watcher last read a changes page successfully "
            "(NaN on a stand-by process).",
            labels,
            registry=r,
        )
        self.watcher_leader = Gauge(
            "motcua_watcher_leader",
            "1 while this process leads the watcher (polls the changes feed).",
            labels,
            registry=r,
        )
        self.surveys_sent = Gauge(
            "motcua_surveys_sent",
            "Survey invitations delivered, all time (database-wide: aggregate with max).",
            labels,
            registry=r,
        )
        self.surveys_answered = Gauge(
            "motcua_surveys_answered",
            "Surveys answered, all time (database-wide: aggregate with max).",
            labels,
            registry=r,
        )
        self.zalo_token_age = Gauge(
            "motcua_zalo_token_age_seconds",
            "Seconds since the Zalo OA access token was stored (absent without Zalo).",
            labels,
            registry=r,
        )
        self.scrape_errors = Counter(
            "motcua_metrics_scrape_errors",
            "Scrapes whose database figures could not be read.",
            labels,
            registry=r,
        )

    # ------------------------------------------------------------------ counting

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(process, *labels)`, looked up once (labels() validates each call)."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.process, *labels)
        return child

    def count_message(self, channel: str, outcome: str) -> None:
        """One citizen message handled."""
        self._child(self.messages, channel, outcome).inc()

    def count_lookup(self, result: str) -> None:
        """One lookup asked of the case API while a citizen waits."""
        self._child(self.lookups, result).inc()

    def observe_case_api(self, client: str, call: str, outcome: str, seconds: float) -> None:
        """One case API call and how long it took; failures are counted as errors too."""
        self._child(self.case_api_seconds, client, call, outcome).observe(seconds)
        if outcome not in ("ok", "not_found"):
            self._child(self.case_api_errors, client, call, outcome).inc()

    def count_send(self, channel: str, result: str) -> None:
        """One push handed to a channel."""
        self._child(self.sends, channel, result).inc()

    # ------------------------------------------------------------------ scrape-time sources

    def watch_breaker(self, client: str, state: Callable[[], str]) -> None:
        """Report `state()` (closed, open, half_open) as the breaker of `client`."""
        self._sources.breakers[client] = state

    def watch_figures(self, read: Callable[[], Awaitable[OperationalFigures]]) -> None:
        """Read the database figures with `read()` at every scrape."""
        self._sources.figures = read

    def watcher_progress(self) -> WatcherProgress:
        """The record the watcher's adapters update (made on first use)."""
        if self._sources.watcher is None:
            self._sources.watcher = WatcherProgress()
        return self._sources.watcher

    async def render(self) -> bytes:
        """Refresh the scrape-time figures and return the Prometheus text exposition."""
        p = self.process
        for client, state in self._sources.breakers.items():
            self.breaker.labels(p, client).state(state())
        progress = self._sources.watcher
        if progress is not None:
            self.watcher_leader.labels(p).set(1 if progress.leader else 0)
            self.watcher_lag.labels(p).set(progress.lag(time.monotonic()))
        if self._sources.figures is not None:
            try:
                figures = await self._sources.figures()
            except Exception:
                self.scrape_errors.labels(p).inc()
            else:
                self._set_figures(figures)
        return generate_latest(self.registry)

    def _set_figures(self, figures: OperationalFigures) -> None:
        p = self.process
        for state, count in figures.outbox_by_state.items():
            self.outbox.labels(p, state).set(count)
        self.outbox_oldest.labels(p).set(figures.oldest_waiting_age or 0.0)
        self.surveys_sent.labels(p).set(figures.surveys_sent)
        self.surveys_answered.labels(p).set(figures.surveys_answered)
        if figures.zalo_token_age is not None:
            self.zalo_token_age.labels(p).set(figures.zalo_token_age)
