"""Shared benchmark helpers: a simulator in its own process, percentiles, printing."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

import httpx

from bot.web.serve import free_port


@contextlib.contextmanager
def simulator_process(
    *, dossiers: int = 20_000, token: str = "bench-token", latency_ms: int = 0, seed: int = 11
) -> Iterator[str]:
    """Run ``motcua simulator`` as its own process on loopback; yield its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "bot", "simulator",
        "--host", "127.0.0.1", "--port", str(port), "--token", token,
        "--dossiers", str(dossiers), "--seed", str(seed), "--latency-ms", str(latency_ms),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"simulator exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("simulator did not start within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    """The median of `values`."""
    return statistics.median(values)


def host_line() -> str:
    """The machine and a CPU yardstick, so figures from different hosts can be compared: the
    same code ran 10–35 % apart on hosts of one kind."""
    started = time.perf_counter()
    sum(range(10**6))
    yardstick = (time.perf_counter() - started) * 1000
    return (
        f"host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"sum(range(10**6)) in {yardstick:.1f} ms (lower is faster)"
    )


def report(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    """One line: the figure, its target, and whether it is met."""
    print(f"{name}: {value:.2f} {unit}  (target {target})  {'OK' if ok else 'MISSED'}")
