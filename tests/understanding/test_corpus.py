"""The understanding step against the labelled corpus of citizen messages."""

from __future__ import annotations

import pytest

from bot.domain.codes import extract_codes
from bot.understanding import Intent, default_matcher
from tests.understanding.corpus import HELD_OUT, load_corpus, score

REQUIRED_OVERALL = 0.95


def test_the_corpus_is_large_and_covers_every_intent() -> None:
    examples = load_corpus()
    assert len(examples) >= 400
    assert {e.intent for e in examples} == set(Intent)


def test_accuracy_per_intent_and_overall(capsys: pytest.CaptureFixture[str]) -> None:
    examples = load_corpus()
    matcher = default_matcher()
    everything = score(matcher, examples)
    held_out = score(matcher, [e for e in examples if e.held_out])
    with capsys.disabled():
        print("\nunderstanding corpus, every message:")
        print(everything.table())
        print(f"the corpus's later part (first held out, since tuned on): {held_out.overall:.1%}")
        for example, got in everything.misses:
            print(
                f"  miss (line {example.line}): {example.intent.value} → {got.value}: "
                f"{example.text!r}"
            )
    assert everything.overall >= REQUIRED_OVERALL, everything.table()


def test_every_message_with_a_valid_code_goes_to_the_lookup() -> None:
    matcher = default_matcher()
    with_codes = [e for e in load_corpus() if extract_codes(e.text)]
    assert len(with_codes) >= 15
    wrong = [e.text for e in with_codes if matcher.understand(e.text).intent is not Intent.LOOKUP]
    assert wrong == []


def test_the_held_out_file_is_reported_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    """tests/understanding/heldout.tsv was written after the last tuning and is never tuned
    on: its accuracy is printed as measured. No threshold is fitted to it; only a message
    with a valid code must go to the lookup, as everywhere."""
    examples = load_corpus(HELD_OUT)
    assert len(examples) >= 60
    matcher = default_matcher()
    result = score(matcher, examples)
    with capsys.disabled():
        print("\nheld-out file (tests/understanding/heldout.tsv), never tuned on:")
        print(result.table())
        for example, got in result.misses:
            print(
                f"  miss (line {example.line}): {example.intent.value} → {got.value}: "
                f"{example.text!r}"
            )
    with_codes = [e for e in examples if extract_codes(e.text)]
    assert all(matcher.understand(e.text).intent is Intent.LOOKUP for e in with_codes)
