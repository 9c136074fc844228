"""The satisfaction index over 1,000,000 answers, and the answer write path.

Fills a fresh database with 1,000,000 survey answers (12 months, 50 agencies, 7 answers per
response as the default survey gives them), then times `motcua index --by agency` for the
year (the engine opened, the report computed and rendered as a table), on SQLite and on
PostgreSQL. Then stores answers one transaction each, as the chat does (load the session,
store the answer, move the session on), and prints answers per second.
Targets (issue 5): index < 2 s on each database; ≥ 1,000 answers/s.

    python -m bench.bench_index [--answers 1000000] [--postgres-url URL] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.support import host_line, median, report
from bot import aio
from bot.settings import load_settings
from bot.storage import bulk
from bot.storage.engine import create_engine, normalize_url
from bot.storage.migrate import upgrade
from bot.storage.uow import SqlUnitOfWorkFactory
from surveys.cli import build_report
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
from surveys.periods import parse_period
from surveys.report import render_table

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = 50
YEAR = 2026
ELEMENTS = ("access", "procedure", "staff", "result", "feedback")


def generate(answers: int, seed: int = 5) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Responses and answers (as tuples in table column order, id left to the database)."""
    rng = random.Random(seed)
    responses: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    response_id = 0
    while len(rows) < answers:
        response_id += 1
        agency = rng.randrange(AGENCIES)
        month = rng.randrange(1, 13)
        rng.randrange(1, 28)  # was the day of a timestamp no longer stored; keeps the data
        agency_code = f"000.{agency:02d}.15.H12"
        procedure = f"1.00{rng.randrange(40):04d}"
        field = ("Hộ tịch", "Chứng thực", "Đất đai", "Xây dựng")[rng.randrange(4)]
        period = YEAR * 100 + month
        responses.append(
            {
                "id": response_id,
                "dossier_key": f"{response_id:064x}",
                "survey_id": "default",
                "agency_code": agency_code,
                "agency_name": f"UBND xã số {agency}",
                "procedure_code": procedure,
                "procedure_name": f"Thủ tục {procedure}",
                "field": field,
                "period_month": period,
            }
        )
        common = (agency_code, procedure, field, period)
        bias = rng.random() * 0.4
        rows.append(
            (
                response_id,
                "quick",
                "rating3",
                None,
                rng.choice((1, 2, 2, 3, 3)),
                None,
                None,
                *common,
            )
        )
        rows.append((response_id, "more", "choice", None, None, "accept", None, *common))
        for element in ELEMENTS:
            score = min(5, max(1, round(rng.gauss(3.9 + bias, 0.9))))
            rows.append((response_id, element, "scale5", element, score, None, None, *common))
    return responses, rows[:answers]


COLUMNS = (
    "response_id",
    "question_id",
    "kind",
    "element",
    "score",
    "choice",
    "comment",
    "agency_code",
    "procedure_code",
    "field",
    "period_month",
)


async def fill(url: str, responses: list[dict[str, Any]], rows: list[tuple[Any, ...]]) -> None:
    """Load the generated data (COPY on PostgreSQL, batched inserts on SQLite)."""
    engine = create_engine(url)
    try:
        columns = list(responses[0])
        records = [tuple(r[c] for c in columns) for r in responses]
        await bulk.copy_records(engine, "survey_responses", columns, records, chunk=20_000)
        await bulk.copy_records(engine, "survey_answers", COLUMNS, rows)
        await bulk.analyze(engine, "survey_answers", "survey_responses")
    finally:
        await engine.dispose()


async def time_index(url: str, rounds: int = 5) -> list[float]:
    """Seconds for `motcua index --by agency --period 2026` (engine, query, table)."""
    settings = load_settings(database_url=url)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = await build_report(settings, "agency", parse_period(str(YEAR)))
        render_table(result)
        times.append(time.perf_counter() - start)
        assert len(result.groups) == AGENCIES
    return times


async def write_path(url: str, answers: int, concurrency: int) -> float:
    """Answers per second stored one transaction each, as the chat handler does."""
    engine = create_engine(url)
    factory = SqlUnitOfWorkFactory.for_chat(engine)  # as the chat's (bot.composition)
    definition = default_catalog().default
    question = definition.question("access")
    now = datetime.now(UTC)
    try:
        codes = []
        async with factory() as uow:
            user = await uow.users.get_or_create("bench", "writer", language="vi", now=now)
            for n in range(concurrency):
                code = f"000.99.15.H12-{uuid.uuid4().hex[:6]}-{n:04d}"
                facts = DossierFacts(code, "000.99.15.H12", "UBND", "1.001193", "Khai sinh", "HT")
                await uow.surveys.start(
                    facts,
                    survey_id="default",
                    user_id=user.id,
                    now=now,
                    expires_at=now + timedelta(days=7),
                    tz=TZ,
                )
                codes.append(code)
            await uow.commit()

        async def worker(code: str, count: int) -> None:
            for i in range(count):
                async with factory() as uow:
                    repo = uow.surveys
                    session = await repo.session(code)
                    assert session is not None
                    # In the chat handler's order (`bot.handlers.survey._store`).
                    await repo.move(code, "procedure", ["quick", "more", "access"], now=now)
                    await repo.save_answer(session.key, question, 1 + i % 5, now=now)
                    await uow.commit()

        per_worker = answers // concurrency
        start = time.perf_counter()
        await asyncio.gather(*(worker(code, per_worker) for code in codes))
        elapsed = time.perf_counter() - start
        return per_worker * concurrency / elapsed
    finally:
        await engine.dispose()


async def create_postgres_database(admin_url: str) -> str:
    """A new empty database on the server of `admin_url`; its URL."""
    admin = normalize_url(admin_url)
    name = f"motcua_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, url: str) -> None:
    """Drop a database made by `create_postgres_database`."""
    admin = normalize_url(admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        name = normalize_url(url).database
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def bench(url: str, label: str, answers: int, data: tuple[list[Any], list[Any]]) -> None:
    """Fill, time the index, time the write path; print the figures."""
    await upgrade(url)
    start = time.perf_counter()
    await fill(url, *data)
    print(f"[{label}] loaded {len(data[1]):,} answers in {time.perf_counter() - start:.1f} s")
    times = await time_index(url)
    best, mid = min(times), median(times)
    report(
        f"[{label}] motcua index --by agency (median of {len(times)})", mid, "s", "< 2 s", mid < 2
    )
    print(f"[{label}]   best {best:.3f} s")
    concurrency = 1 if label == "sqlite" else 20
    rates = [await write_path(url, 2000, concurrency) for _ in range(5)]
    rate = median(rates)
    report(
        f"[{label}] answer write path (median of {len(rates)})",
        rate,
        "answers/s",
        "≥ 1000 answers/s",
        rate >= 1000,
    )
    print(f"[{label}]   runs: " + ", ".join(f"{r:.0f}" for r in rates))


async def main() -> None:
    """Run the benchmark on SQLite, then on PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(host_line())
    start = time.perf_counter()
    data = generate(args.answers)
    print(
        f"generated {len(data[1]):,} answers ({len(data[0]):,} responses) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as directory:
        await bench(
            f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}", "sqlite", args.answers, data
        )
    if not args.skip_postgres:
        url = await create_postgres_database(args.postgres_url)
        try:
            await bench(url, "postgresql", args.answers, data)
        finally:
            await drop_postgres_database(args.postgres_url, url)


if __name__ == "__main__":
    aio.run(main())
