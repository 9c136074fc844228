"""Dispatcher throughput against the fake Telegram Bot API enforcing flood control.

Two runs (issue 4): 3,000 queued notices with the fake allowing 30 messages/s overall and
1/s per chat; then 20,000 with the overall limit raised to 500/s. The dispatchers run in their
own processes (``--workers``, default 1) against one database, as ``motcua run`` would; the
fake runs in this process and counts every message. Printed per run: achieved rate against the
allowed rate (target ≥ 95 %), the most sendMessage calls (refused ones included) the fake
received in any sliding one-second window next to the configured rate (target: not above
it), 429 answers (target 0), duplicates (0) and losses (0).

    python -m bench.bench_dispatcher [--database-url URL] [--workers 2]
        [--notices 3000 --chats 300 --rate 30] [--big-notices 20000 --big-chats 1000
        --big-rate 500] [--only small|big]

Without --database-url a fresh SQLite file is used; a PostgreSQL database is emptied of
outbox rows and chat users first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support import host_line, report
from bot import aio
from bot.channels.telegram import TelegramChannel
from bot.messages import Incoming, Reply, Response
from bot.notify.dispatcher import Dispatcher
from bot.notify.rendering import NoticeRenderers, RenderContext
from bot.notify.throttle import ChannelLimit, max_in_window
from bot.ports import Notice
from bot.storage import bulk
from bot.storage.delivery import OutboxDeliveryQueue
from bot.storage.engine import create_engine, is_sqlite
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.support.fake_telegram import FakeTelegram

KIND = "bench.notice"
FIRST_CHAT = 1_000_000
ROOT = Path(__file__).resolve().parents[1]


def _render(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
    return [Reply(f"Thông báo {params['n']}")]


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    notices: int
    delivered: int
    duplicates: int
    rejected_429: int
    seconds: float
    allowed_rate: float
    configured_rate: float
    max_per_second: int

    @property
    def rate(self) -> float:
        """Messages per second from the first delivery to the last."""
        return (self.delivered - 1) / self.seconds if self.seconds > 0 else float("nan")


async def prepare(url: str, notices: int, chats: int) -> None:
    """An empty outbox with `notices` notices for `chats` Telegram users, round robin."""
    await upgrade(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await bulk.empty_tables(
            engine, "outbox", "outbox_user_pacing", "outbox_channel_pacing", "chat_users"
        )
        async with SqlUnitOfWorkFactory(engine)() as uow:
            users: list[int] = []
            for i in range(chats):
                chat = str(FIRST_CHAT + i)
                user = await uow.users.get_or_create("telegram", chat, language="vi", now=now)
                users.append(user.id)
            batch = [
                Notice(users[n % chats], KIND, f"bench:{n}", params={"n": n})
                for n in range(notices)
            ]
            for start in range(0, notices, 1000):
                await uow.outbox.enqueue_many(batch[start : start + 1000], now=now)
            await uow.commit()
        if not is_sqlite(engine):
            # What autovacuum would do after a bulk load (it may be off on a test server):
            # without statistics the planner nests loops and one claim takes seconds.
            await bulk.analyze(engine, "outbox", "chat_users", "outbox_user_pacing", vacuum=True)
    finally:
        await engine.dispose()


async def measure(
    url: str, *, notices: int, chats: int, rate: int, workers: int, patience: float = 30.0
) -> Figures:
    """Deliver the prepared notices with `workers` dispatcher processes; the figures."""
    fake = FakeTelegram()
    times: list[float] = []
    chats_seen: list[int] = []

    def observe(chat_id: int, _message: Any) -> None:
        times.append(time.monotonic())
        chats_seen.append(chat_id)

    fake.on_message(observe)
    fake.rate_limit(per_second=rate, per_chat_per_second=1)
    async with fake.serve():
        command = [sys.executable, "-m", "bench.bench_dispatcher", "--worker", url]
        command += [fake.api_url, fake.token, str(rate)]
        processes = [
            subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))  # noqa: ASYNC220
            for _ in range(workers)
        ]
        try:
            last_progress, seen = time.monotonic(), 0
            while len(set(chats_seen)) < chats or len(times) < notices:
                await asyncio.sleep(0.2)
                if len(times) != seen:
                    last_progress, seen = time.monotonic(), len(times)
                elif time.monotonic() - last_progress > patience:
                    break
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError("a dispatcher process exited")
            await asyncio.sleep(1.0)  # anything arriving now would be a duplicate
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                # Off the loop: the fake must keep answering while the workers stop (their
                # last getUpdates confirms the offset), or they time out.
                await asyncio.to_thread(process.wait, 15)
        texts = Counter(m.text for chat in set(chats_seen) for m in fake.messages(chat))
        calls = fake.calls_of("sendMessage")
        rejected = sum(1 for c in calls if c.status == 429)
    return Figures(
        notices=notices,
        delivered=len(texts),
        duplicates=sum(n - 1 for n in texts.values()),
        rejected_429=rejected,
        seconds=times[-1] - times[0] if times else 0.0,
        allowed_rate=float(min(rate, chats)),
        configured_rate=float(rate),
        # Every sendMessage that arrived, refused ones included: what the dispatcher sent.
        max_per_second=max_in_window([c.at for c in calls], 1.0),
    )


def print_figures(name: str, figures: Figures) -> None:
    """The run's figures against their targets."""
    print(f"--- {name}: {figures.notices:,} notices, allowed {figures.allowed_rate:g} msg/s")
    share = 100 * figures.rate / figures.allowed_rate
    report(
        "achieved rate", figures.rate, "msg/s", f"≥ {0.95 * figures.allowed_rate:g}", share >= 95
    )
    report("share of the allowed rate", share, "%", "≥ 95 %", share >= 95)
    rate = figures.configured_rate
    report(
        "most in any 1-s window",
        figures.max_per_second,
        "msgs",
        f"≤ {rate:g} (configured rate)",
        figures.max_per_second <= rate,
    )
    report("429 answers", figures.rejected_429, "", "0", figures.rejected_429 == 0)
    report("duplicates", figures.duplicates, "", "0", figures.duplicates == 0)
    losses = figures.notices - figures.delivered
    report("losses", losses, "", "0", losses == 0)
    print(f"    elapsed {figures.seconds:.1f} s from first to last delivery")


async def worker(url: str, api_url: str, token: str, rate: int) -> None:
    """One dispatcher process (started by `measure`), until terminated."""

    class _Quiet:
        async def __call__(self, incoming: Incoming) -> Response:
            return Response()

        async def user_blocked(self, channel: str, channel_user_id: str) -> None:
            return None

    engine = create_engine(url)
    events = _Quiet()
    channel = TelegramChannel(token, api_url, events, events, poll_timeout=1.0, commands=None)
    await channel.start()
    limits = {"telegram": ChannelLimit(per_second=rate, per_chat_interval=1.0)}
    dispatcher = Dispatcher(
        OutboxDeliveryQueue(SqlUnitOfWorkFactory(engine)),
        {"telegram": channel},
        renderers=NoticeRenderers({KIND: _render}),
        limits=limits,
        batch_size=200,
        poll_interval=0.05,
    )
    await dispatcher.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await dispatcher.stop()
    await channel.stop()
    await engine.dispose()
    if dispatcher.late:
        print(f"worker {os.getpid()}: {dispatcher.late} sends put back for missing their slot")
    if dispatcher.paced:
        held = dispatcher.paced
        print(f"worker {os.getpid()}: {held} sends held back > 1 ms to keep the 1-s window")


async def main(args: argparse.Namespace) -> None:
    """Run the benchmark."""
    url = args.database_url
    if url is None:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    print(f"database: {url.split('://', 1)[0]}, dispatcher processes: {args.workers}")
    runs = []
    if args.only in (None, "small"):
        runs.append(("small", args.notices, args.chats, args.rate))
    if args.only in (None, "big"):
        runs.append(("big", args.big_notices, args.big_chats, args.big_rate))
    for name, notices, chats, rate in runs:
        await prepare(url, notices, chats)
        figures = await measure(url, notices=notices, chats=chats, rate=rate, workers=args.workers)
        print_figures(f"{name} run, fake limit {rate}/s overall and 1/s per chat", figures)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--big-notices", type=int, default=20_000)
    parser.add_argument("--big-chats", type=int, default=1000)
    parser.add_argument("--big-rate", type=int, default=500)
    parser.add_argument("--only", choices=["small", "big"])
    parser.add_argument("--worker", nargs=4, metavar=("URL", "API", "TOKEN", "RATE"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.worker:
        db, api, secret, per_second = arguments.worker
        aio.run(worker(db, api, secret, int(per_second)))  # as `motcua run` runs
    else:
        print(host_line())
        aio.run(main(arguments))  # the fake, too, without collector stalls in its timing
