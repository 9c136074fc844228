"""The workspace's satisfaction page over 1,000,000 survey answers, on SQLite and PostgreSQL.

Fills a fresh database with bench_index's 1,000,000 answers (12 months of 2026, 50 agencies),
starts motcua's web app with the workspace on loopback, signs in as an admin and times
``GET /office/?period=2026`` (ranking of all 50 agencies, the five elements with their
intervals, the 12-month trend, timeliness, the SVG charts) through a real HTTP client.
Prints the median of several requests and the target (issue 17): < 1 s on each database.

    python -m bench.bench_office [--answers 1000000] [--postgres-url URL] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.bench_index import (
    YEAR,
    create_postgres_database,
    drop_postgres_database,
    fill,
    generate,
)
from bench.support import host_line, median, report
from bot import aio
from bot.office.app import OfficeConfig, office_routes
from bot.office.auth import LoginLimits
from bot.office.passwords import hash_password
from bot.ports import SystemClock
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.app import build_web_app
from bot.web.serve import serve_in_loop

PASSWORD = "bench-password-1234"
ROUNDS = 7
TARGET_S = 1.0


async def time_page(url: str, rounds: int = ROUNDS) -> list[float]:
    """Seconds per request of the satisfaction page for the year, signed in as an admin."""
    engine = create_engine(url)
    clock = SystemClock()
    factory = SqlUnitOfWorkFactory(engine, clock)
    async with factory() as uow:
        await uow.staff.add(
            "bench", password_hash=hash_password(PASSWORD), role="admin", agencies=(),
            now=clock.now(),
        )  # fmt: skip
        await uow.commit()
    config = OfficeConfig(
        session_secret="bench",
        session_ttl=timedelta(hours=1),
        secure_cookie=False,
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
        login_limits=LoginLimits(),
        server_secret="bench",
    )
    reports = SqlUnitOfWorkFactory.for_reports(engine, clock)
    app = build_web_app(office_routes(factory, reports, clock, config))
    times: list[float] = []
    try:
        async with (
            serve_in_loop(app) as server,
            httpx.AsyncClient(base_url=server.url, timeout=60, follow_redirects=True) as client,
        ):
            form = await client.get("/office/login")
            marker = 'name="csrf" value="'
            start = form.text.index(marker) + len(marker)
            csrf = form.text[start : form.text.index('"', start)]
            signed = await client.post(
                "/office/login",
                data={"username": "bench", "password": PASSWORD, "csrf": csrf},
            )
            assert signed.status_code == 200, signed.status_code  # followed to the page
            for _ in range(rounds + 1):  # the first request warms the caches
                started = time.perf_counter()
                page = await client.get("/office/", params={"period": str(YEAR)})
                times.append(time.perf_counter() - started)
                assert page.status_code == 200
                assert page.text.count('<tr class="small">') + page.text.count("<tr>") > 50
    finally:
        await engine.dispose()
    return times[1:]


async def settle(url: str) -> None:
    """What a live database has after a bulk load: PostgreSQL's autovacuum has run (index-only
    scans need the visibility map) and the planner has statistics for every table."""
    engine = create_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                ready = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await ready.exec_driver_sql("VACUUM ANALYZE")
        else:
            # SQLite's ANALYZE runs in a transaction; motcua's driver begins every transaction
            # itself, so SQLAlchemy's isolation levels (AUTOCOMMIT) are not offered there.
            async with engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


async def bench(url: str, label: str, data: tuple[list[object], list[object]]) -> None:
    """Fill, then time the page; print the figures."""
    await upgrade(url)
    started = time.perf_counter()
    await fill(url, *data)  # type: ignore[arg-type]
    await settle(url)
    print(f"[{label}] loaded {len(data[1]):,} answers in {time.perf_counter() - started:.1f} s")
    times = await time_page(url)
    mid = median(times)
    report(
        f"[{label}] GET /office/?period={YEAR} (median of {len(times)})",
        mid,
        "s",
        f"< {TARGET_S:.0f} s",
        mid < TARGET_S,
    )
    print(f"[{label}]   runs: " + ", ".join(f"{t:.3f}" for t in times))


async def main() -> None:
    """Run the benchmark on SQLite, then on PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    print(host_line())
    data = generate(args.answers)
    with tempfile.TemporaryDirectory() as directory:
        if not args.skip_sqlite:
            sqlite_url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
            await bench(sqlite_url, "sqlite", data)  # type: ignore[arg-type]
    if not args.skip_postgres:
        url = await create_postgres_database(args.postgres_url)
        try:
            await bench(url, "postgresql", data)  # type: ignore[arg-type]
        finally:
            await drop_postgres_database(args.postgres_url, url)


if __name__ == "__main__":
    aio.run(main())
