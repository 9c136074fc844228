"""The matcher: weighted phrases, a little fuzziness, and the slots that decide before words do.

How one message is understood, in order:

1. A dossier code anywhere in the text wins: LOOKUP (the code's own parser finds it).
2. A lone number is a slot, not a sentence: 4–8 digits (spaces, dots and dashes ignored), with
   at most a few filler words ("mã pin là … ạ"), is a PIN; a Vietnamese phone number with at
   most phone words around it ("sđt của em …") is a typed PHONE.
3. Otherwise the text is folded into tokens (`bot.understanding.normalise`); a token the phrase
   files do not know is replaced by the closest known word when one is a typo away (one edit
   for words of 5–7 letters, two from 8; a swap of two letters counts as one edit). Shorter
   words are left alone: folded Vietnamese syllables are short and one letter apart mean
   other things ("phat" is not "chat").
4. Every phrase of the files found in the tokens adds its weight to its intent (strong 3,
   normal 2, weak 1). The intent with the highest score wins if it reaches 2 (one normal
   phrase, or two weak ones); ties go to the intent listed first in the file. Below that:
   UNKNOWN.

The language of the message is told by diacritics (Vietnamese), else by which language's
words it uses more.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.domain.codes import extract_codes
from bot.understanding.intents import Intent, Understanding
from bot.understanding.normalise import Normaliser, has_diacritics

WEIGHTS = {"strong": 3.0, "normal": 2.0, "weak": 1.0}
THRESHOLD = 2.0
MAX_TOKENS = 80  # a long message is judged on its beginning
MAX_FUZZY_LOOKUPS = 20

_DIGIT_RUN = re.compile(r"\+?\d(?:[ .\-]{0,3}\d)*")
_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class PhraseFile:
    """One language's phrase file, parsed."""

    language: str
    words: frozenset[str]
    abbreviations: dict[str, tuple[str, ...]]
    emoji: dict[str, str]
    intents: dict[Intent, dict[str, list[str]]]
    slots: dict[str, list[str]]


def load_phrase_file(text: str) -> PhraseFile:
    """Parse a phrase file (TOML; see ``bot/understanding/phrases/vi.toml``)."""
    data: dict[str, Any] = tomllib.loads(text)
    intents: dict[Intent, dict[str, list[str]]] = {}
    for name, levels in data.get("intents", {}).items():
        intent = Intent(name)  # an unknown intent name is an error in the file
        unknown = set(levels) - set(WEIGHTS)
        if unknown:
            raise ValueError(f"intent {name}: unknown weight(s) {sorted(unknown)}")
        intents[intent] = {level: list(phrases) for level, phrases in levels.items()}
    return PhraseFile(
        language=str(data["language"]),
        words=frozenset(data.get("words", [])),
        abbreviations={k: tuple(str(v).split()) for k, v in data.get("abbreviations", {}).items()},
        emoji=dict(data.get("emoji", {})),
        intents=intents,
        slots={k: list(v) for k, v in data.get("slots", {}).items()},
    )


def bundled_phrase_files() -> list[PhraseFile]:
    """The phrase files shipped with motcua (Vietnamese first)."""
    folder = resources.files("bot.understanding") / "phrases"
    return [load_phrase_file((folder / f"{lang}.toml").read_text("utf-8")) for lang in ("vi", "en")]


class Matcher:
    """Understands messages with the phrases of one or more phrase files."""

    def __init__(self, files: Iterable[PhraseFile]) -> None:
        files = list(files)
        abbreviations: dict[str, tuple[str, ...]] = {}
        emoji: dict[str, str] = {}
        for f in files:
            emoji.update(f.emoji)
        bare = Normaliser({}, emoji)
        for f in files:
            for key, value in f.abbreviations.items():
                abbreviations[bare.fold(key)] = bare.tokens(" ".join(value))
        self._normaliser = Normaliser(abbreviations, emoji)
        norm = self._normaliser

        self._phrases: dict[tuple[str, ...], list[tuple[Intent, float]]] = defaultdict(list)
        self._order: dict[Intent, int] = {}
        for f in files:
            for intent, levels in f.intents.items():
                self._order.setdefault(intent, len(self._order))
                for level, phrases in levels.items():
                    for phrase in phrases:
                        phrase_words = norm.tokens(phrase)
                        if phrase_words:
                            self._phrases[phrase_words].append((intent, WEIGHTS[level]))
        self._longest = max((len(k) for k in self._phrases), default=1)

        def slot(name: str) -> frozenset[tuple[str, ...]]:
            return frozenset(norm.tokens(p) for f in files for p in f.slots.get(name, []))

        self._pin_words = {t for p in slot("pin_words") for t in p}
        self._phone_words = {t for p in slot("phone_words") for t in p}
        self._to_language = {"en": slot("to_english"), "vi": slot("to_vietnamese")}
        self._all = slot("all_dossiers")
        self._complaint = slot("complaint")
        self._filler = {t for p in slot("filler") for t in p}
        self._bare_feedback = {t for p in slot("feedback_bare") for t in p}

        by_language: dict[str, set[str]] = defaultdict(set)
        for f in files:
            words = by_language[f.language]
            words.update(t for w in f.words for t in norm.tokens(w))
            for levels in f.intents.values():
                for phrases in levels.values():
                    words.update(t for p in phrases for t in norm.tokens(p))
        shared = set.intersection(*by_language.values()) if len(by_language) > 1 else set()
        self._language_words = {lang: frozenset(w - shared) for lang, w in by_language.items()}
        vocabulary = set().union(*by_language.values()) | {t for k in self._phrases for t in k}
        vocabulary |= {t for v in abbreviations.values() for t in v}
        self._vocabulary = frozenset(vocabulary)
        self._fuzzy_choices = sorted(t for t in vocabulary if len(t) >= 3 and t.isalpha())
        self._nearest = functools.lru_cache(maxsize=4096)(self._nearest_uncached)

    # ------------------------------------------------------------------ public

    def understand(self, text: str) -> Understanding:
        """What `text` asks for, and the slots it carries. Pure; never raises on any text."""
        codes = extract_codes(text)
        if codes:
            return Understanding(Intent.LOOKUP, codes=tuple(codes), language=self._language(text))
        folded = self._normaliser.fold(text)
        digits = self._number_slot(folded)
        if digits is not None:
            return digits
        tokens = self._corrected(self._normaliser.tokens(text)[:MAX_TOKENS])
        language = self._language(text)
        scores = self._scores(tokens)
        if not scores:
            return Understanding(Intent.UNKNOWN, language=language, tokens=tokens)
        intent, score = max(scores.items(), key=lambda item: (item[1], -self._order[item[0]]))
        if score < THRESHOLD:
            return Understanding(Intent.UNKNOWN, language=language, score=score, tokens=tokens)
        return Understanding(
            intent,
            language=language,
            score=score,
            tokens=tokens,
            wanted_language=self._wanted_language(tokens) if intent is Intent.LANGUAGE else None,
            all_dossiers=intent is Intent.STOP and self._has_any(tokens, self._all),
            complaint=intent is Intent.FEEDBACK and self._has_any(tokens, self._complaint),
            substantial=intent is Intent.FEEDBACK and self._substantial(tokens),
        )

    # ------------------------------------------------------------------ steps

    def _number_slot(self, folded: str) -> Understanding | None:
        """PIN or typed PHONE when the message is (nearly) only that number."""
        runs = [m for m in _DIGIT_RUN.findall(folded) if any(c.isdigit() for c in m)]
        if len(runs) != 1:
            return None
        digits = _NON_DIGIT.sub("", runs[0])
        rest = self._normaliser.expand(
            re.findall(r"[a-z0-9]+", folded.replace(runs[0].strip(), " "))
        )
        words = set(rest)
        if 4 <= len(digits) <= 8 and words <= self._pin_words:
            return Understanding(Intent.PIN, pin=digits)
        phone_shaped = (len(digits) == 10 and digits.startswith("0")) or (
            len(digits) == 11 and digits.startswith("84")
        )
        if phone_shaped and words <= self._phone_words | self._pin_words:
            language = "en" if words & self._language_words.get("en", frozenset()) else None
            return Understanding(Intent.PHONE, language=language)
        return None

    def _corrected(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Unknown words replaced by a known word a typo away (bounded work per message)."""
        out: list[str] = []
        budget = MAX_FUZZY_LOOKUPS
        for token in tokens:
            if token in self._vocabulary or len(token) < 5 or not token.isalpha() or budget <= 0:
                out.append(token)
                continue
            budget -= 1
            out.append(self._nearest(token))
        return tuple(out)

    def _nearest_uncached(self, token: str) -> str:
        allowed = 1 if len(token) <= 7 else 2
        found = process.extractOne(
            token, self._fuzzy_choices, scorer=OSA.distance, score_cutoff=allowed
        )
        return token if found is None else str(found[0])

    def _scores(self, tokens: tuple[str, ...]) -> dict[Intent, float]:
        scores: dict[Intent, float] = defaultdict(float)
        phrases = self._phrases
        count = len(tokens)
        for start in range(count):
            for size in range(1, min(self._longest, count - start) + 1):
                hits = phrases.get(tokens[start : start + size])
                if hits:
                    for intent, weight in hits:
                        scores[intent] += weight
        return scores

    def _language(self, text: str) -> str | None:
        """ "vi" with diacritics; else the language whose own words the text uses more (chat
        abbreviations and emoji count for neither); None when it does not tell."""
        if has_diacritics(text):
            return "vi"
        tokens = self._normaliser.written_words(text)[:MAX_TOKENS]
        counts = {
            lang: sum(1 for t in tokens if t in words)
            for lang, words in self._language_words.items()
        }
        best = max(counts, key=lambda lang: counts[lang], default=None)
        if best is None or counts[best] == 0:
            return None
        if sum(1 for c in counts.values() if c == counts[best]) > 1:
            return None
        return best

    def _wanted_language(self, tokens: tuple[str, ...]) -> str | None:
        for language, phrases in self._to_language.items():
            if self._has_any(tokens, phrases):
                return language
        return None

    @staticmethod
    def _has_any(tokens: tuple[str, ...], phrases: frozenset[tuple[str, ...]]) -> bool:
        for phrase in phrases:
            size = len(phrase)
            for start in range(len(tokens) - size + 1):
                if tokens[start : start + size] == phrase:
                    return True
        return False

    def _substantial(self, tokens: tuple[str, ...]) -> bool:
        """Whether a feedback message says something beyond "I want to give feedback"."""
        return any(t not in self._filler and t not in self._bare_feedback for t in tokens)


@functools.cache
def default_matcher() -> Matcher:
    """The matcher over the bundled phrase files (built once per process)."""
    return Matcher(bundled_phrase_files())


def understand(text: str) -> Understanding:
    """`Matcher.understand` with the bundled phrase files."""
    return default_matcher().understand(text)
