"""Lookups through Telegram: python-telegram-bot against the fake Bot API, with the case API
simulator answering in 200 ms.

For webhook and polling mode it prints updates per second, the latency from the update
entering the Bot API (queued for getUpdates, or POSTed to the webhook) to the answer's
sendMessage reaching it (p50 / p99), and the bot process's CPU time per update:

- burst: every update at once, the saturation throughput (several bursts; the median is
  held against the target);
- steady: updates offered at a fixed rate (default 300/s), the latency under that load.

Beside them, the same bot processing one update at a time (python-telegram-bot's default) and
the ratio. Two configurations: the Telegram adapter around a stub core that only waits as long
as a lookup does (the adapter's own capacity), and the full stack (real core, SQLite storage,
the simulator). Target (issue 3): ≥ 300 lookups/s in one process.

Both configurations run with the inbound journal (`bot.inbound`: every update stored before
it is acknowledged, marked done after its answer) on the benchmark's database, as `motcua
run` has it; ``--without-journal`` leaves it out, to see what it costs.

The bot runs in this process; the fake Bot API (which also injects the updates and times the
answers) and the simulator run in their own processes, as Telegram and the case system would.
The fake applies no flood control: real Telegram allows about 30 messages/s per bot, so the
figures are the bot's capacity, not what Telegram would let it send.

    python -m bench.bench_telegram [--updates 2000] [--rate 300] [--core both|stub|real]
                                   [--bursts 3] [--database-url URL] [--without-journal]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.bench_lookup import sample_codes
from bench.support import host_line, median, percentile, report, simulator_process
from bot import aio
from bot.channel_events import StoredChannelEvents
from bot.channels.telegram import TelegramChannel
from bot.composition import open_runtime
from bot.inbound import InboundJournal
from bot.messages import Button, ChannelEvents, Incoming, MessageHandler, Reply, Response
from bot.settings import load_settings
from bot.web.serve import free_port, serve_in_loop
from tests.support.fake_telegram import FakeTelegram, SentMessage

TOKEN = "bench-token"
TARGET = 300.0


@dataclass(frozen=True)
class Result:
    """One measured run."""

    mode: str
    load: str
    updates: int
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # the bot process's CPU time per update

    def line(self) -> str:
        """A row of the results table."""
        return (
            f"{self.mode:<22} {self.load:<16} {self.updates:>7} {self.rate:>10.1f}"
            f" {self.p50_ms:>9.1f} {self.p99_ms:>9.1f} {self.cpu_ms:>8.2f}"
        )


# --------------------------------------------------------------------------- the fake's process


async def measure(
    fake: FakeTelegram, codes: list[str], users: range, rate: float | None
) -> tuple[float, list[float]]:
    """Offer one lookup per user (all at once, or `rate` per second); the updates/s achieved
    and each update's latency to its first answer."""
    entered: dict[int, float] = {}
    answered: dict[int, float] = {}
    all_answered = asyncio.Event()

    def observe(chat_id: int, _message: SentMessage) -> None:
        if chat_id in entered and chat_id not in answered:
            answered[chat_id] = time.perf_counter()
            if len(answered) == len(users):
                all_answered.set()

    stop_observing = fake.on_message(observe)
    posts: list[asyncio.Task[int]] = []
    started = time.perf_counter()
    try:
        for index, user in enumerate(users):
            if rate:
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            entered[user] = time.perf_counter()
            # In webhook mode this POSTs to the bot (40 at a time, as Telegram does).
            posts.append(asyncio.create_task(fake.send_text(user, random.choice(codes))))
        try:
            await asyncio.wait_for(all_answered.wait(), timeout=120.0)
        except TimeoutError:
            missing = len(users) - len(answered)
            errors = fake.webhook_errors[-3:]
            raise RuntimeError(f"{missing} updates unanswered after 120 s; {errors}") from None
        await asyncio.gather(*posts)
    finally:
        stop_observing()
    elapsed = max(answered.values()) - started
    return len(users) / elapsed, [answered[user] - entered[user] for user in users]


async def serve_fake(port: int) -> None:
    """The fake Bot API plus ``POST /control/measure`` and ``GET /control/healthz``."""
    # Fresh update ids each run, as Telegram's only grow: on a database kept between runs
    # (PostgreSQL) the inbound journal would otherwise take them for repeats and drop them.
    fake = FakeTelegram(first_update_id=int(time.time() * 1000) % 2**31)
    fake.webhook_attempts = 5

    async def control_measure(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        users = range(int(body["first_user"]), int(body["first_user"]) + int(body["count"]))
        rate, latencies = await measure(fake, list(body["codes"]), users, body.get("rate"))
        return JSONResponse({"rate": rate, "latencies": latencies})

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"token": fake.token})

    fake.app.router.routes[:0] = [
        Route("/control/measure", control_measure, methods=["POST"]),
        Route("/control/healthz", healthz),
    ]
    async with fake.serve(port=port):
        await asyncio.Event().wait()  # until terminated


@contextlib.contextmanager
def fake_process() -> Iterator[tuple[str, str]]:
    """Run the fake Bot API in its own process; yield its URL and the bot token it accepts."""
    port = free_port()
    command = [sys.executable, "-m", "bench.bench_telegram", "--serve-fake", str(port)]
    process = subprocess.Popen(command, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("the fake Bot API exited")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{url}/control/healthz", timeout=1)
                if answer.status_code == 200:
                    yield url, str(answer.json()["token"])
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Bot API did not start within 30 s")
            time.sleep(0.1)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


# --------------------------------------------------------------------------- the bot's process


class StubCore:
    """A core that only waits like a lookup does on the case API, then answers like one:
    what is left is the Telegram adapter's own cost."""

    def __init__(self, latency: float) -> None:
        self.latency = latency

    async def __call__(self, incoming: Incoming) -> Response:
        """Wait, then answer with a lookup-sized reply and two buttons."""
        await asyncio.sleep(self.latency)
        code = incoming.text or ""
        text = f"Hồ sơ {code}\nTình trạng: Đang xử lý\nThủ tục: Đăng ký khai sinh\n" * 3
        buttons = ((Button("🔄 Cập nhật", f"lk:{code}"), Button("🔐 Xác minh", f"vf:{code}")),)
        return Response.of(Reply(text, buttons=buttons))


class NoEvents:
    """Channel events nobody listens to (the stub core has no storage)."""

    async def user_blocked(self, channel: str, channel_user_id: str) -> None:
        """Ignored."""


@contextlib.asynccontextmanager
async def telegram_bot(
    api_url: str,
    token: str,
    core: MessageHandler,
    events: ChannelEvents,
    mode: str,
    slots: int,
    journal: InboundJournal | None,
) -> AsyncIterator[TelegramChannel]:
    """The Telegram channel around `core`, started in `mode`, with the inbound journal
    (`bot.inbound`) as `motcua run` has it, unless `journal` is None."""
    channel_journal = journal.for_channel("telegram") if journal is not None else None
    if mode == "polling":
        channel = TelegramChannel(
            token, api_url, core, events, max_concurrency=slots, journal=channel_journal
        )
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
        return
    port = free_port()
    channel = TelegramChannel(
        token,
        api_url,
        core,
        events,
        webhook_url=f"http://127.0.0.1:{port}/hooks/telegram",
        webhook_secret="bench-webhook-secret",
        max_concurrency=slots,
        journal=channel_journal,
    )
    async with serve_in_loop(Starlette(routes=channel.routes()), port=port):
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()


async def remote_measure(
    client: httpx.AsyncClient, codes: list[str], first_user: int, count: int, rate: float | None
) -> tuple[float, list[float]]:
    """Have the fake's process offer the updates and time the answers."""
    body = {"first_user": first_user, "count": count, "rate": rate, "codes": codes}
    answer = await client.post("/control/measure", json=body)
    answer.raise_for_status()
    data = answer.json()
    return float(data["rate"]), [float(x) for x in data["latencies"]]


async def run_mode(
    fake: tuple[str, str],
    core: MessageHandler,
    events: ChannelEvents,
    codes: list[str],
    mode: str,
    *,
    updates: int,
    rate: float,
    first_user: int,
    slots: int,
    journal: InboundJournal | None,
    bursts: int = 1,
) -> list[Result]:
    """Warm-up, `bursts` bursts and (with concurrency) a steady run in one mode; their
    results, bursts first."""
    results = []
    label = mode if slots > 1 else f"{mode}, one at a time"
    api_url, token = fake
    async with (
        httpx.AsyncClient(base_url=api_url, timeout=600) as client,
        telegram_bot(api_url, token, core, events, mode, slots, journal),
    ):
        user = first_user
        warm_up = min(50, updates)
        await remote_measure(client, codes, user, warm_up, None)
        user += warm_up
        loads: list[tuple[str, float | None]] = [("burst", None)] * bursts
        if slots > 1 and rate:
            loads.append((f"steady {rate:g}/s", rate))
        for load, offered in loads:
            cpu = time.process_time()
            speed, latencies = await remote_measure(client, codes, user, updates, offered)
            cpu_ms = (time.process_time() - cpu) / updates * 1000
            user += updates
            p50, p99 = median(latencies) * 1000, percentile(latencies, 0.99) * 1000
            results.append(Result(label, load, updates, speed, p50, p99, cpu_ms))
            print(results[-1].line(), flush=True)
    return results


async def run_all(
    fake: tuple[str, str],
    core: MessageHandler,
    events: ChannelEvents,
    codes: list[str],
    *,
    updates: int,
    rate: float,
    serial: int,
    bursts: int,
    journal: InboundJournal | None,
) -> tuple[dict[str, Result], Result]:
    """Both modes processing concurrently, then one at a time; per mode, the burst with the
    median rate."""
    print(
        f"{'mode':<22} {'load':<16} {'updates':>7} {'updates/s':>10} {'p50 ms':>9} {'p99 ms':>9}"
        f" {'CPU ms':>8}"
    )
    medians: dict[str, Result] = {}
    user = random.randrange(10**6, 10**9)  # new users every run: no rate limit is reached
    for mode in ("webhook", "polling"):
        results = await run_mode(
            fake, core, events, codes, mode, updates=updates, rate=rate, first_user=user,
            slots=256, bursts=bursts, journal=journal,
        )  # fmt: skip
        ranked = sorted(results[:bursts], key=lambda result: result.rate)
        medians[mode] = ranked[len(ranked) // 2]
        user += (bursts + 9) * updates
    [one_at_a_time] = await run_mode(
        fake, core, events, codes, "webhook", updates=serial, rate=0, first_user=user, slots=1,
        journal=journal,
    )  # fmt: skip
    return medians, one_at_a_time


def summary(title: str, bursts: dict[str, Result], one_at_a_time: Result, rounds: int) -> bool:
    """Print the figures against the target; whether both modes meet it."""
    print(f"{title} (median burst of {rounds}):")
    ok = True
    for mode, burst in bursts.items():
        met = burst.rate >= TARGET
        ok = ok and met
        report(f"  {mode} lookups/s", burst.rate, "updates/s", f"≥ {TARGET:g}", met)
    best = max(burst.rate for burst in bursts.values())
    print(
        f"  one update at a time (python-telegram-bot's default): {one_at_a_time.rate:.1f}"
        f" updates/s; concurrent processing: {best / one_at_a_time.rate:.0f}× that\n"
    )
    return ok


async def run(
    database_url: str,
    updates: int,
    rate: float,
    latency_ms: int,
    serial: int,
    cores: str,
    bursts: int,
    journaled: bool,
) -> int:
    """Measure; 0 when every measured configuration reaches the target."""
    ok = True
    with (
        simulator_process(dossiers=20_000, token=TOKEN, latency_ms=latency_ms) as url,
        fake_process() as fake,
    ):
        codes = await sample_codes(url, 200)
        settings = load_settings(
            database_url=database_url,
            case_api_url=url,
            case_api_token=SecretStr(TOKEN),
            lookup_limit_per_minute=1_000_000,
            lookup_limit_per_hour=1_000_000,
        )
        store = database_url.split(":")[0]
        journal_note = f"inbound journal on {store}" if journaled else "no inbound journal"
        async with open_runtime(settings) as runtime:
            journal = runtime.inbound if journaled else None
            if cores in ("stub", "both"):
                print(f"== the Telegram adapter alone: a stub core waiting {latency_ms} ms,"
                      f" {journal_note}")  # fmt: skip
                stub = StubCore(latency_ms / 1000)
                medians, single = await run_all(
                    fake, stub, NoEvents(), codes, updates=updates, rate=rate, serial=serial,
                    bursts=bursts, journal=journal,
                )  # fmt: skip
                ok = summary("adapter alone", medians, single, bursts) and ok
            if cores in ("real", "both"):
                print(f"== full stack: the real core, {store}, case API simulator"
                      f" at {latency_ms} ms, {journal_note}")  # fmt: skip
                events = StoredChannelEvents(runtime.uow_factory, runtime.clock)
                medians, single = await run_all(
                    fake, runtime.core, events, codes, updates=updates, rate=rate, serial=serial,
                    bursts=bursts, journal=journal,
                )  # fmt: skip
                ok = summary("full stack", medians, single, bursts) and ok
    return 0 if ok else 1


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--updates", type=int, default=2000, help="updates per measured run")
    parser.add_argument("--rate", type=float, default=TARGET, help="offered rate, steady run")
    parser.add_argument("--latency-ms", type=int, default=200, help="case API latency")
    parser.add_argument("--serial", type=int, default=50, help="updates, one-at-a-time run")
    parser.add_argument("--bursts", type=int, default=3, help="bursts per mode (median shown)")
    parser.add_argument(
        "--core",
        choices=("both", "stub", "real"),
        default="both",
        help="measure the adapter alone (stub core), the full stack (real core), or both",
    )
    parser.add_argument(
        "--without-journal",
        action="store_true",
        help="leave out the inbound journal (to see what it costs)",
    )
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.serve_fake:
        with contextlib.suppress(KeyboardInterrupt):
            aio.run(serve_fake(args.serve_fake))  # no collector stalls in the fake's timing
        return 0
    print(host_line())
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return aio.run(
            run(
                url,
                args.updates,
                args.rate,
                args.latency_ms,
                args.serial,
                args.core,
                args.bursts,
                not args.without_journal,
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
