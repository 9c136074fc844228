"""Crash safety: a dispatcher process is killed (SIGKILL) in the middle of 300 deliveries to
the fake Bot API and started again; every notice arrives, with duplicates no more than the
rows that were in flight at the kill.

Run as a module, this file is the dispatcher process:
``python -m tests.notify.test_crash DATABASE_URL API_URL TOKEN``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.notify.dispatcher import Dispatcher
from bot.notify.throttle import ChannelLimit
from bot.storage.engine import create_engine
from tests.notify.outbox_support import (
    RENDERERS,
    RemoteBotApi,
    enqueue,
    make_users,
    notice,
    queue_of,
    states,
    telegram_sender,
)
from tests.support.fake_telegram import FakeTelegram

# Enough for two seconds of sending at the limit below, so the kill (after a third) lands
# mid-stream with rows in flight; more would only lengthen the wait, not the check.
NOTICES = 300
LIMITS = {"telegram": ChannelLimit(per_second=150, per_chat_interval=1.0)}
ROOT = Path(__file__).resolve().parents[2]


async def _serve(database_url: str, api_url: str, token: str) -> None:
    engine = create_engine(database_url)
    async with telegram_sender(RemoteBotApi(api_url, token)) as channel:
        dispatcher = Dispatcher(
            queue_of(engine),
            {"telegram": channel},
            renderers=RENDERERS,
            limits=LIMITS,
            lease_seconds=3.0,
            send_timeout=1.0,
            poll_interval=0.05,
        )
        await dispatcher.start()
        await asyncio.Event().wait()  # until killed


def _start(database_url: str, fake: FakeTelegram, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "tests.notify.test_crash", database_url, fake.api_url, fake.token,
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ)
        )


async def test_a_killed_dispatcher_loses_nothing(database_url: str, tmp_path: Path) -> None:
    engine = create_engine(database_url)
    log = tmp_path / "dispatcher.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        users = await make_users(engine, NOTICES)
        await enqueue(engine, [notice(u, i) for i, u in enumerate(users)], now=datetime.now(UTC))
        async with FakeTelegram().serve() as fake:
            delivered: list[int] = []
            fake.on_message(lambda chat_id, _message: delivered.append(chat_id))

            processes.append(_start(database_url, fake, log))
            await fake.wait_until(lambda: len(delivered) >= NOTICES // 3, within=60)
            processes[0].send_signal(signal.SIGKILL)
            await asyncio.to_thread(processes[0].wait, 10)
            in_flight = (await states(engine))["sending"]
            at_kill = len(delivered)
            assert 0 < at_kill < NOTICES, log.read_text()[-3000:]

            processes.append(_start(database_url, fake, log))
            await fake.wait_until(lambda: len(set(delivered)) >= NOTICES, within=60)
            await asyncio.sleep(0.5)  # anything more would be a duplicate
            for _ in range(100):
                if (await states(engine))["sent"] == NOTICES:
                    break
                await asyncio.sleep(0.1)

        counts = Counter(delivered)
        duplicates = sum(n - 1 for n in counts.values())
        assert set(counts) == {10_000 + i for i in range(NOTICES)}  # nothing lost
        assert duplicates <= in_flight, (duplicates, in_flight)
        assert (await states(engine))["sent"] == NOTICES
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2], sys.argv[3]))
