"""Lookups through the channel-neutral core against the simulator in its own process.

Prints lookups per second and the latency the bot adds over the case API's own (p50 / p99).
Targets (issue 2): ≥ 500 lookups/s in one process, ≤ 5 ms added at p50.

    python -m bench.bench_lookup [--database-url URL] [--lookups 3000] [--concurrency 50]
                                 [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from bench.support import host_line, median, percentile, report, simulator_process
from bot import aio
from bot.composition import open_runtime
from bot.messages import Incoming
from bot.settings import load_settings

TOKEN = "bench-token"


async def sample_codes(url: str, count: int) -> list[str]:
    """Real generated codes to look up."""
    codes: list[str] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        for status in ("processing", "ready", "returned", "received"):
            answer = await c.get("/admin/samples", params={"status": status, "limit": count})
            codes += [item["dossier"]["code"] for item in answer.json()["items"]]
    return codes


async def case_api_alone(url: str, codes: list[str], rounds: int) -> list[float]:
    """Latency of the bare case API call, as the bot's own client makes it (no bot around it)."""
    from bot.caseapi.client import HttpCaseApi

    latencies = []
    async with HttpCaseApi(url, TOKEN) as api:
        for _ in range(rounds):
            code = random.choice(codes)
            started = time.perf_counter()
            await api.get_dossier(code)
            latencies.append(time.perf_counter() - started)
    return latencies


async def run(database_url: str, lookups: int, concurrency: int, rounds: int) -> int:
    """Measure; return 0 when both targets are met."""
    with simulator_process(dossiers=20_000, token=TOKEN) as url:
        codes = await sample_codes(url, 200)
        settings = load_settings(
            database_url=database_url,
            case_api_url=url,
            case_api_token=SecretStr(TOKEN),
            lookup_limit_per_minute=1_000_000,
            lookup_limit_per_hour=1_000_000,
        )
        async with open_runtime(settings) as runtime:
            core = runtime.core
            # warm up connections, caches and the user rows
            for i in range(concurrency):
                await core(Incoming("bench", f"user-{i}", text=random.choice(codes)))

            # sequential: latency added by the bot over the bare case API call
            samples = 400
            bare = await case_api_alone(url, codes, samples)
            through_bot = []
            for i in range(samples):
                started = time.perf_counter()
                await core(Incoming("bench", f"user-{i % concurrency}", text=random.choice(codes)))
                through_bot.append(time.perf_counter() - started)
            added_p50 = (median(through_bot) - median(bare)) * 1000
            added_p99 = (percentile(through_bot, 0.99) - percentile(bare, 0.99)) * 1000

            # concurrent: throughput, the median of several runs (this machine is noisy)
            rates = []
            for _ in range(rounds):
                queue: asyncio.Queue[str] = asyncio.Queue()
                for _ in range(lookups):
                    queue.put_nowait(random.choice(codes))

                async def worker(user: str, queue: asyncio.Queue[str] = queue) -> None:
                    while not queue.empty():
                        code = queue.get_nowait()
                        await core(Incoming("bench", user, text=code))

                started = time.perf_counter()
                await asyncio.gather(*(worker(f"user-{i}") for i in range(concurrency)))
                rates.append(lookups / (time.perf_counter() - started))
    rate = median(rates)
    print(
        f"database: {database_url.split(':')[0]}; {lookups} lookups, {concurrency} concurrent,"
        f" {rounds} runs: " + ", ".join(f"{r:.0f}/s" for r in rates)
    )
    bare_p50, bare_p99 = median(bare) * 1000, percentile(bare, 0.99) * 1000
    print(
        f"case API alone p50 {bare_p50:.2f} ms, p99 {bare_p99:.2f} ms;"
        f" through the bot p50 {median(through_bot) * 1000:.2f} ms,"
        f" p99 {percentile(through_bot, 0.99) * 1000:.2f} ms"
    )
    report(f"throughput (median of {rounds})", rate, "lookups/s", "≥ 500", rate >= 500)
    report("added latency p50", added_p50, "ms", "≤ 5", added_p50 <= 5)
    report("added latency p99", added_p99, "ms", "reported only", True)
    return 0 if rate >= 500 and added_p50 <= 5 else 1


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(host_line())
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return aio.run(run(url, args.lookups, args.concurrency, args.rounds))


if __name__ == "__main__":
    raise SystemExit(main())
