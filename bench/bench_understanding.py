"""The understanding step alone: what it adds to every typed message.

Runs every message of the labelled corpus (tests/understanding/corpus.tsv) through the matcher
many times, plus a few hostile ones (a 2,000-character message, emoji only, mixed scripts), and
prints the time per message at p50 / p99.
Target (issue 14): ≤ 0.2 ms per message at p50.

    python -m bench.bench_understanding [--rounds 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.support import host_line, percentile, report
from bot.understanding import Matcher, default_matcher

TARGET_P50_MS = 0.2
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "understanding" / "corpus.tsv"
HOSTILE = [
    "hồ sơ " * 330,  # about 2,000 characters, the longest text the core reads
    "😀😃😄😁😆😅🤣😂🙂🙃",
    "Привет 你好 hồ sơ xong chưa مرحبا",
    "a\u0000b\u0007c\u200bd xong chua",
]


def messages() -> list[str]:
    """The corpus messages and the hostile ones."""
    lines = CORPUS.read_text("utf-8").splitlines()
    corpus = [line.split("\t", 1)[1] for line in lines if line and not line.startswith("#")]
    return corpus + HOSTILE


def measure(matcher: Matcher, texts: list[str], rounds: int) -> list[float]:
    """Seconds per message, every message `rounds` times."""
    timings: list[float] = []
    clock = time.perf_counter
    for _ in range(rounds):
        for text in texts:
            started = clock()
            matcher.understand(text)
            timings.append(clock() - started)
    return timings


def main(argv: list[str] | None = None) -> int:
    """Measure and print; 0 when the target is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    texts = messages()
    started = time.perf_counter()
    matcher = default_matcher()
    built = time.perf_counter() - started
    measure(matcher, texts, 1)  # warm the typo cache, as a running bot has
    timings = sorted(measure(matcher, texts, args.rounds))
    p50 = percentile(timings, 0.50) * 1000
    p99 = percentile(timings, 0.99) * 1000
    print(host_line())
    print(f"messages: {len(texts)} × {args.rounds} rounds; matcher built in {built * 1000:.0f} ms")
    ok = p50 <= TARGET_P50_MS
    report("understanding p50", p50 * 1000, "µs/message", f"≤ {TARGET_P50_MS * 1000:.0f} µs", ok)
    print(f"understanding p99: {p99 * 1000:.0f} µs/message  (reported, no target)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
