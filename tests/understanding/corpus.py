"""The labelled corpus of citizen messages (tests/understanding/corpus.tsv) and its scoring."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.understanding import Intent, Matcher

CORPUS = Path(__file__).with_name("corpus.tsv")
HELD_OUT = Path(__file__).with_name("heldout.tsv")  # never used to tune the phrase files
HELD_OUT_MARKER = "# held-out"


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    intent: Intent
    text: str
    held_out: bool
    line: int


def load_corpus(path: Path = CORPUS) -> list[Example]:
    """Every labelled message of the corpus file."""
    examples: list[Example] = []
    held_out = False
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.startswith(HELD_OUT_MARKER):
            held_out = True
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        examples.append(Example(Intent(label), text, held_out, number))
    return examples


@dataclass
class Score:
    """Accuracy per intent and overall, and the misses."""

    right: Counter[Intent]
    total: Counter[Intent]
    misses: list[tuple[Example, Intent]]

    @property
    def overall(self) -> float:
        """The share of messages understood right."""
        return sum(self.right.values()) / max(1, sum(self.total.values()))

    def table(self) -> str:
        """Accuracy per intent, one line each."""
        lines = [f"{'intent':<10} {'right':>5} / {'all':<4} accuracy"]
        for intent in Intent:
            if self.total[intent]:
                share = self.right[intent] / self.total[intent]
                lines.append(
                    f"{intent.value:<10} {self.right[intent]:>5} / {self.total[intent]:<4} "
                    f"{share:6.1%}"
                )
        lines.append(
            f"{'overall':<10} {sum(self.right.values()):>5} / {sum(self.total.values()):<4} "
            f"{self.overall:6.1%}"
        )
        return "\n".join(lines)


def score(matcher: Matcher, examples: list[Example]) -> Score:
    """Run every example through `matcher`."""
    right: Counter[Intent] = Counter()
    total: Counter[Intent] = Counter()
    misses: list[tuple[Example, Intent]] = []
    for example in examples:
        got = matcher.understand(example.text).intent
        total[example.intent] += 1
        if got is example.intent:
            right[example.intent] += 1
        else:
            misses.append((example, got))
    return Score(right, total, misses)
