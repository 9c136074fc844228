"""The watcher's poll cycle at scale: 100,000 active subscriptions, 1 % of dossiers changed.

A simulator with 100,000 dossiers runs in its own process; every dossier has a subscriber
(100,000 users and active subscriptions) and a snapshot, as in a steady state. Then 1 % of
the dossiers change (random valid transitions) and ONE poll cycle is timed: changes feed
pages, snapshots, subscribers, rules, snapshot upserts, outbox inserts, cursor.

Prints, on SQLite and PostgreSQL, against the targets of issue 4:
- time of one poll cycle (target < 2 s);
- case-API requests (target: proportional to changes, ceil(changes / 1000) + 1);
- peak Python memory of a cycle (tracemalloc, measured on a second batch of changes, since
  tracing slows the code down), and the process's peak RSS.

    python -m bench.bench_watcher [--database-url URL] [--dossiers 100000] [--changed 0.01]

Without --database-url both databases run: a temporary SQLite file, and a temporary
database on the PostgreSQL at MOTCUA_BENCH_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg

from bench.support import host_line, report
from bot.caseapi.client import HttpCaseApi
from bot.domain.snapshot import Snapshot
from bot.notify.watcher import Watcher
from bot.ports import SystemClock
from bot.storage import bulk
from bot.storage.engine import create_engine, is_sqlite, normalize_url
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.storage.watch import snapshot_row

TOKEN = "bench-token"
SEED = 11
POSTGRES_URL = os.environ.get(
    "MOTCUA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CHUNK = 5000


# --------------------------------------------------------------------------- the simulator


def simulator_main(pipe: Connection, dossiers: int, now: datetime) -> None:
    """Child process: build and serve a simulator; answer "move" commands over `pipe`."""
    asyncio.run(_simulator(pipe, dossiers, now))


async def _simulator(pipe: Connection, dossiers: int, now: datetime) -> None:
    from bot.caseapi.simulator import build_state, run_simulator
    from bot.caseapi.simulator.state import TRANSITIONS

    state = build_state(SEED, dossiers, now)
    rng = random.Random(SEED)
    rows = [
        snapshot_row(Snapshot.of(_as_dossier(d.to_json())), now=now) for d in state
    ]  # the steady state: the bot has seen every dossier
    loop = asyncio.get_running_loop()
    async with run_simulator(state=state, token=TOKEN) as sim:
        pipe.send((sim.url, rows))
        del rows
        moment = now
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command[0] == "stop":
                return
            count = int(command[1])
            moment += timedelta(minutes=1)
            movable = [d for d in state if TRANSITIONS[d.status]]
            moved = 0
            for dossier in rng.sample(movable, min(count, len(movable))):
                target = rng.choice(sorted(TRANSITIONS[dossier.status]))
                state.move(dossier.code, target, moment)
                moved += 1
            pipe.send(moved)


def _as_dossier(data: dict[str, Any]) -> Any:
    from bot.domain.dossier import Dossier

    return Dossier.model_validate(data)


# --------------------------------------------------------------------------- the database


async def fill(url: str, snapshots: list[dict[str, Any]], now: datetime) -> None:
    """One subscriber per dossier (users, active subscriptions) and every snapshot."""
    engine = create_engine(url)
    ids = range(1, len(snapshots) + 1)
    try:
        users = [
            {
                "id": i,
                "channel": "telegram",
                "channel_user_id": str(100_000_000 + i),
                "language": "vi" if i % 5 else "en",
                "blocked": False,
                "created_at": now - timedelta(days=30),
                "last_seen_at": now - timedelta(days=1),
            }
            for i in ids
        ]
        await bulk.insert_rows(engine, "chat_users", users, chunk=CHUNK)
        del users
        followed = [
            {
                "user_id": i,
                "dossier_code": row["code"],
                "active": True,
                "created_at": now - timedelta(days=30),
            }
            for i, row in zip(ids, snapshots, strict=True)
        ]
        await bulk.insert_rows(engine, "subscriptions", followed, chunk=CHUNK)
        del followed
        await bulk.insert_rows(engine, "dossier_snapshots", snapshots, chunk=CHUNK)
        if not is_sqlite(engine):
            await bulk.analyze(engine)
    finally:
        await engine.dispose()


async def pg_database(action: str, name: str) -> None:
    """Create or drop a scratch PostgreSQL database."""
    admin = normalize_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        if action == "create":
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --------------------------------------------------------------------------- measuring


class CountingCaseApi:
    """The real HTTP client, counting the requests the watcher makes."""

    def __init__(self, inner: HttpCaseApi) -> None:
        self.inner = inner
        self.requests = 0

    async def get_dossier(self, code: str) -> Any:
        self.requests += 1
        return await self.inner.get_dossier(code)

    async def verify(self, code: str, *, pin: str | None = None, phone: str | None = None) -> bool:
        self.requests += 1
        return await self.inner.verify(code, pin=pin, phone=phone)

    async def changes(self, cursor: str | None = None, limit: int = 500) -> Any:
        self.requests += 1
        return await self.inner.changes(cursor, limit)


async def measure(
    label: str,
    url: str,
    sim_url: str,
    pipe: Connection,
    snapshots: list[dict[str, Any]],
    per_cycle: int,
) -> bool:
    """Fill the database at `url`, change 1 %, time one cycle; True when every target is met."""
    now = datetime.now(UTC)
    await upgrade(url)
    started = time.perf_counter()
    await fill(url, snapshots, now)
    print(f"[{label}] {len(snapshots):,} subscriptions and snapshots stored in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    # The fixture data this process holds (100,000 snapshot rows) is no part of a watcher:
    # keep the garbage collector from walking it again and again during the measurement.
    gc.collect()
    gc.freeze()
    engine = create_engine(url)
    ok = True
    try:
        async with HttpCaseApi(sim_url, TOKEN, request_timeout=30) as client:
            api = CountingCaseApi(client)
            watcher = Watcher(SqlUnitOfWorkFactory(engine), api, SystemClock())
            await watcher.poll_once()  # takes the cursor: "from now"

            pipe.send(("move", per_cycle))
            changed: int = pipe.recv()
            api.requests = 0
            started = time.perf_counter()
            cycle = await watcher.poll_once()
            elapsed = time.perf_counter() - started
            requests = api.requests
            expected = math.ceil(changed / 1000) + 1

            pipe.send(("move", per_cycle))
            pipe.recv()
            tracemalloc.start()
            await watcher.poll_once()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            await watcher.release()
    finally:
        await engine.dispose()

    print(f"[{label}] one cycle: {cycle.dossiers} changes, {cycle.notices} notices "
          f"({cycle.queued} queued), {cycle.ended} subscriptions ended")  # fmt: skip
    ok &= _report(f"[{label}] poll cycle time", elapsed, "s", "< 2 s", elapsed < 2.0)
    ok &= _report(
        f"[{label}] case-API requests for {changed} changes",
        requests,
        "requests",
        f"<= ceil(changes / 1000) + 1 = {expected}",
        requests <= expected,
    )
    peak_mb = peak / 2**20
    _report(f"[{label}] peak Python memory of a cycle", peak_mb, "MiB", "reported", True)
    return ok


def _report(name: str, value: float, unit: str, target: str, ok: bool) -> bool:
    report(name, value, unit, target, ok)
    return ok


async def run(urls: list[tuple[str, str]], dossiers: int, fraction: float) -> int:
    """Run the benchmark on each (label, url); 0 when every target is met.

    Each database gets its own simulator built from the same seed, so both measure the very
    same dossiers, subscriptions and changes.
    """
    per_cycle = max(1, round(dossiers * fraction))
    context = multiprocessing.get_context("spawn")
    now = datetime.now(UTC)
    ok = True
    for label, url in urls:
        parent, child = context.Pipe()
        process = context.Process(target=simulator_main, args=(child, dossiers, now), daemon=True)
        process.start()
        try:
            sim_url, snapshots = parent.recv()
            print(f"[{label}] simulator: {dossiers:,} dossiers, {per_cycle:,} changes per cycle")
            ok &= await measure(label, url, sim_url, parent, snapshots, per_cycle)
            del snapshots
            gc.unfreeze()
            gc.collect()
        finally:
            parent.send(("stop",))
            process.join(10)
            if process.is_alive():
                process.kill()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process (includes the fixture data): {rss:.0f} MiB")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="one database to use (default: both, temporary)")
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction changed per cycle")
    args = parser.parse_args(argv)
    print(host_line())
    if args.database_url:
        return asyncio.run(run([("given", args.database_url)], args.dossiers, args.changed))
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        name = f"motcua_bench_watcher_{uuid.uuid4().hex[:8]}"
        postgres_url = normalize_url(POSTGRES_URL).set(database=name).render_as_string(False)
        asyncio.run(pg_database("create", name))
        try:
            return asyncio.run(
                run(
                    [("sqlite", sqlite_url), ("postgresql", postgres_url)],
                    args.dossiers,
                    args.changed,
                )
            )
        finally:
            asyncio.run(pg_database("drop", name))


if __name__ == "__main__":
    sys.exit(main())
