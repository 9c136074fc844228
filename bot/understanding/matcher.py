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
   other things ("phat" is not "chat"); their shorthand is in the files' abbreviations.
4. Every phrase of the files found in the tokens adds its weight to its intent (strong 3,
   normal 2, weak 1); a phrase written several ways ("cảm ơn", "cám ơn") counts once.
   The intent with the highest score wins if it reaches 2 (one normal phrase, or two weak
   ones); ties go to the intent listed first in the file. Below that: UNKNOWN. A greeting or
   a thanks gives way to any other intent that reaches 2: "a/c ơi hs e dc chưa" is a question.
   A win below 3 (one generic keyword) in a message that mostly talks of other things — more
   words no phrase explains than words one does, leaving aside the files' common little
   words — is UNKNOWN: "cho em hỏi cách làm giấy phép kinh doanh" is not a request for help.
5. A message that says it is feedback ("khiếu nại", "góp ý", "complaint": the files'
   ``says_feedback`` slot) is feedback whenever feedback reaches 2, whatever topic it names
   and however much that topic weighs: "tôi muốn khiếu nại về lệ phí" is a complaint about
   the fee, not a question about it. In a message written with diacritics such a phrase
   counts only with some of its own ("khiếu nai" does): "tôi tên Phan Anh" is no "phản ánh".

Diacritics. A word the citizen wrote with diacritics matches a phrase word only with the same
diacritics ("dùng" is not "dừng", "vàng" is not "vâng", "tế" is not "tệ"); where a tone mark sits
does not matter ("huỷ" = "hủy"). A word written without any matches by its folded form, so
messages typed without diacritics are understood, and so are words left bare inside a phrase
of a message that has some ("hồ so"). A one-word keyword, though, has no phrase around it to
confirm it: in a message with diacritics it counts only with its own ("cho" is not "chờ"), and
some read like other common words once folded even in messages without any ("dung": dừng,
dùng, đúng, Dũng; "vang": vâng, vàng). The files list those other words under
``look_alikes``; such a keyword counts alone only when written with its diacritics, and
without them still inside a longer phrase ("dung gui", "dung nhan tin").

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
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.domain.codes import extract_codes
from bot.understanding.intents import COURTESY, Intent, Understanding
from bot.understanding.normalise import Normaliser, Tokens, has_diacritics, phrase_tokens

WEIGHTS = {"strong": 3.0, "normal": 2.0, "weak": 1.0}
THRESHOLD = 2.0
CONFIDENT = 3.0  # a strong phrase, or a normal and a weak one
MAX_TOKENS = 80  # a long message is judged on its beginning
MAX_FUZZY_LOOKUPS = 20
MIN_LANGUAGE_WORDS = 2  # a message without diacritics tells its language with two own words

_DIGIT_RUN = re.compile(r"\+?\d(?:[ .\-]{0,3}\d)*")
_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class PhraseFile:
    """One language's phrase file, parsed."""

    language: str
    words: frozenset[str]
    abbreviations: dict[str, str]
    emoji: dict[str, str]
    intents: dict[Intent, dict[str, list[str]]]
    slots: dict[str, list[str]]
    look_alikes: frozenset[str] = frozenset()


def load_phrase_file(text: str) -> PhraseFile:
    """Parse a phrase file (TOML; see ``bot/understanding/phrases/vi.toml``)."""
    return _phrase_file(tomllib.loads(text))


def _phrase_file(data: dict[str, Any]) -> PhraseFile:
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
        abbreviations={str(k): str(v) for k, v in data.get("abbreviations", {}).items()},
        emoji=dict(data.get("emoji", {})),
        intents=intents,
        slots={k: list(v) for k, v in data.get("slots", {}).items()},
        look_alikes=frozenset(str(w) for w in data.get("look_alikes", [])),
    )


def bundled_phrase_files() -> list[PhraseFile]:
    """The phrase files shipped with motcua (Vietnamese first)."""
    folder = resources.files("bot.understanding") / "phrases"
    return [load_phrase_file((folder / f"{lang}.toml").read_text("utf-8")) for lang in ("vi", "en")]


def office_phrase_files(folder: Path | None) -> list[PhraseFile]:
    """The bundled phrase files with an office's own added (``vi.toml`` / ``en.toml`` in
    `folder`, written like the bundled ones, any part of them): what the office adds comes on
    top, nothing bundled is lost. ValueError, naming the file, for one that cannot be read."""
    files = bundled_phrase_files()
    if folder is None:
        return files
    merged = []
    for bundled in files:
        path = folder / f"{bundled.language}.toml"
        if not path.is_file():
            merged.append(bundled)
            continue
        try:
            data = tomllib.loads(path.read_text("utf-8"))
            if data.setdefault("language", bundled.language) != bundled.language:
                raise ValueError(f"language is not {bundled.language!r}")
            own = _phrase_file(data)
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError too
            raise ValueError(f"phrase file {path}: {exc}") from None
        merged.append(_with(bundled, own))
    return merged


def _with(base: PhraseFile, extra: PhraseFile) -> PhraseFile:
    """`base` with what `extra` adds (its phrases after the bundled ones)."""
    intents = {
        intent: {level: list(p) for level, p in levels.items()}
        for intent, levels in base.intents.items()
    }
    for intent, levels in extra.intents.items():
        for level, phrases in levels.items():
            intents.setdefault(intent, {}).setdefault(level, []).extend(phrases)
    slots = {name: list(values) for name, values in base.slots.items()}
    for name, values in extra.slots.items():
        slots.setdefault(name, []).extend(values)
    return PhraseFile(
        language=base.language,
        words=base.words | extra.words,
        abbreviations=base.abbreviations | extra.abbreviations,
        emoji=base.emoji | extra.emoji,
        intents=intents,
        slots=slots,
        look_alikes=base.look_alikes | extra.look_alikes,
    )


@dataclass(frozen=True, slots=True)
class _Phrase:
    """One phrase of an intent: its words' marks and its weight. For a one-word keyword:
    whether it is written with diacritics (`marked`), and whether, folded, it reads like
    another word (`look_alike`)."""

    marks: tuple[str, ...]
    intent: Intent
    weight: float
    marked: bool = False
    look_alike: bool = False

    def counts_bare(self, *, in_marked_text: bool) -> bool:
        """Whether a word typed without diacritics may stand for this one-word keyword: never
        for a look-alike; in a message written with diacritics, only if the keyword has none
        either (the citizen who marks words wrote "cho", not "chờ")."""
        if self.look_alike:
            return False
        return not (in_marked_text and self.marked)


class Matcher:
    """Understands messages with the phrases of one or more phrase files."""

    def __init__(self, files: Iterable[PhraseFile]) -> None:
        files = list(files)
        emoji: dict[str, str] = {}
        for f in files:
            emoji.update(f.emoji)
        bare = Normaliser({}, emoji)
        abbreviations = {
            key: phrase_tokens(bare, value).tokens
            for f in files
            for key, value in f.abbreviations.items()
        }
        self._normaliser = Normaliser(abbreviations, emoji)
        norm = self._normaliser

        look_alikes: dict[str, set[str]] = defaultdict(set)  # folded → marks of other words
        for f in files:
            for word in f.look_alikes:
                spelled = phrase_tokens(bare, word)
                for folded, marks in zip(spelled.words, spelled.marks, strict=True):
                    look_alikes[folded].add(marks)

        # folded words → (marks, intent) → weight: a phrase written twice counts once, at its
        # highest weight ("dừng" and "đừng" are both "dung" once folded).
        found: dict[tuple[str, ...], dict[tuple[tuple[str, ...], Intent], float]]
        found = defaultdict(dict)
        self._order: dict[Intent, int] = {}
        for f in files:
            for intent, levels in f.intents.items():
                self._order.setdefault(intent, len(self._order))
                for level, phrases in levels.items():
                    for phrase in phrases:
                        spelled = phrase_tokens(norm, phrase)
                        if spelled.words:
                            known = found[spelled.words]
                            key = (spelled.marks, intent)
                            known[key] = max(known.get(key, 0.0), WEIGHTS[level])
        self._phrases: dict[tuple[str, ...], tuple[_Phrase, ...]] = {}
        for words, by_marks in found.items():
            alone = len(words) == 1
            self._phrases[words] = tuple(
                _Phrase(
                    marks,
                    intent,
                    weight,
                    marked=alone and marks[0] != words[0],
                    look_alike=alone and bool(look_alikes.get(words[0], set()) - {marks[0]}),
                )
                for (marks, intent), weight in by_marks.items()
            )
        self._longest = max((len(k) for k in self._phrases), default=1)

        def slot(name: str) -> frozenset[tuple[str, ...]]:
            return frozenset(norm.tokens(p) for f in files for p in f.slots.get(name, []))

        self._pin_words = {t for p in slot("pin_words") for t in p}
        self._phone_words = {t for p in slot("phone_words") for t in p}
        self._to_language = {"en": slot("to_english"), "vi": slot("to_vietnamese")}
        self._all = slot("all_dossiers")
        self._complaint = slot("complaint")
        self._says_feedback = tuple(
            phrase_tokens(norm, p) for f in files for p in f.slots.get("says_feedback", [])
        )
        self._filler = {t for p in slot("filler") for t in p}
        self._cancel = slot("cancel")
        self._cancel_words = frozenset(t for p in self._cancel for t in p)
        self._common = frozenset(
            {t for f in files for w in f.words for t in norm.tokens(w)} | self._filler
        )
        self._bare_feedback = {t for p in slot("feedback_bare") for t in p}

        by_language: dict[str, set[str]] = defaultdict(set)
        for f in files:
            own = by_language[f.language]
            own.update(t for w in f.words for t in norm.tokens(w))
            for levels in f.intents.values():
                for phrases in levels.values():
                    own.update(t for p in phrases for t in norm.tokens(p))
        shared = set.intersection(*by_language.values()) if len(by_language) > 1 else set()
        self._language_words = {lang: frozenset(w - shared) for lang, w in by_language.items()}
        vocabulary = set().union(*by_language.values()) | {t for k in self._phrases for t in k}
        vocabulary |= {t for v in abbreviations.values() for t in v.words}
        vocabulary |= set(look_alikes)
        # the slots' words are known words too: "understand" is not a typo of "understood"
        vocabulary |= {
            t for f in files for v in f.slots.values() for p in v for t in norm.tokens(p)
        }
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
        split = self._normaliser.split(text)
        words = Tokens(split.words[:MAX_TOKENS], split.marks[:MAX_TOKENS])
        words = self._corrected(words)
        tokens = words.words
        language = self._language(text)
        marked = has_diacritics(text)
        scores, covered = self._scores(words, in_marked_text=marked)
        cancel = self._is_cancel(tokens)
        if not scores:
            return Understanding(Intent.UNKNOWN, language=language, tokens=tokens, cancel=cancel)
        intent, score = self._best(scores)
        if (
            intent is not Intent.FEEDBACK
            and scores.get(Intent.FEEDBACK, 0.0) >= THRESHOLD
            and self._says_it_is_feedback(words, in_marked_text=marked)
        ):
            intent, score = Intent.FEEDBACK, scores[Intent.FEEDBACK]
        unexplained = self._unexplained(words, covered)
        if score < THRESHOLD or (
            score < CONFIDENT and unexplained >= 2 and unexplained > sum(covered)
        ):
            # One generic keyword does not make "can you help me find a job" a request for
            # help: the message mostly talks of something no phrase knows.
            return Understanding(
                Intent.UNKNOWN, language=language, score=score, tokens=tokens, cancel=cancel
            )
        reached = frozenset(i for i, s in scores.items() if s >= THRESHOLD)
        complaint = Intent.FEEDBACK in reached and self._has_any(tokens, self._complaint)
        return Understanding(
            intent,
            language=language,
            score=score,
            tokens=tokens,
            reached=reached,
            cancel=cancel,
            only_courtesy=intent in COURTESY and unexplained <= 1 and len(tokens) <= 8,
            wanted_language=self._wanted_language(tokens) if intent is Intent.LANGUAGE else None,
            all_dossiers=intent is Intent.STOP and self._has_any(tokens, self._all),
            complaint=complaint,
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

    def _corrected(self, tokens: Tokens) -> Tokens:
        """Unknown words replaced by a known word a typo away (bounded work per message); a
        replaced word is a guess, so it keeps no marks."""
        words: list[str] = []
        marks: list[str | None] = []
        budget = MAX_FUZZY_LOOKUPS
        for word, mark in zip(tokens.words, tokens.marks, strict=True):
            if word in self._vocabulary or len(word) < 5 or not word.isalpha() or budget <= 0:
                words.append(word)
                marks.append(mark)
                continue
            budget -= 1
            nearest = self._nearest(word)
            words.append(nearest)
            marks.append(mark if nearest == word else None)
        return Tokens(tuple(words), tuple(marks))

    def _nearest_uncached(self, token: str) -> str:
        allowed = 1 if len(token) <= 7 else 2
        found = process.extractOne(
            token, self._fuzzy_choices, scorer=OSA.distance, score_cutoff=allowed
        )
        return token if found is None else str(found[0])

    def _scores(
        self, tokens: Tokens, *, in_marked_text: bool
    ) -> tuple[dict[Intent, float], list[bool]]:
        """Each intent's weight (every phrase found once, at its best weight), and which
        tokens a phrase explained."""
        scores: dict[Intent, float] = defaultdict(float)
        covered = [False] * len(tokens.words)
        phrases = self._phrases
        words, marks = tokens.words, tokens.marks
        count = len(words)
        for start in range(count):
            for size in range(1, min(self._longest, count - start) + 1):
                hits = phrases.get(words[start : start + size])
                if not hits:
                    continue
                written = marks[start : start + size]
                best: dict[Intent, float] = {}
                for hit in hits:
                    if (
                        size == 1
                        and written[0] is None
                        and not hit.counts_bare(in_marked_text=in_marked_text)
                    ):
                        continue
                    pairs = zip(written, hit.marks, strict=True)
                    if any(w is not None and w != m for w, m in pairs):
                        continue
                    best[hit.intent] = max(best.get(hit.intent, 0.0), hit.weight)
                for intent, weight in best.items():
                    scores[intent] += weight
                if best:
                    covered[start : start + size] = [True] * size
        return scores, covered

    def _unexplained(self, tokens: Tokens, covered: list[bool]) -> int:
        """How many words no phrase explained, leaving aside the common little words."""
        return sum(
            1
            for word, known in zip(tokens.words, covered, strict=True)
            if not known and word not in self._common and not word.isdigit()
        )

    def _is_cancel(self, tokens: tuple[str, ...]) -> bool:
        """Whether the whole message only says "never mind" ("thôi", "hủy", "e muốn hủy")."""
        if not tokens or len(tokens) > 8 or not self._has_any(tokens, self._cancel):
            return False
        return all(t in self._cancel_words or t in self._common for t in tokens)

    def _best(self, scores: dict[Intent, float]) -> tuple[Intent, float]:
        """The intent with the highest score (ties: the one listed first), except that a
        greeting or a thanks gives way to any other intent that reaches the threshold: "chào
        ad, hồ sơ của tôi xong chưa" asks about the dossier, "a/c ơi" only opens the question."""
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self._order[item[0]]))
        for intent, score in ranked:
            if intent not in COURTESY and score >= THRESHOLD:
                return intent, score
        return ranked[0]

    def _language(self, text: str) -> str | None:
        """ "vi" with diacritics; else the language whose own words the text uses more (chat
        abbreviations and emoji count for neither), if it uses at least two of them: one
        short word ("hi", "help", "thanks") is said by Vietnamese users too, and is no reason
        to answer in English. None when it does not tell."""
        if has_diacritics(text):
            return "vi"
        tokens = self._normaliser.written_words(text)[:MAX_TOKENS]
        counts = {
            lang: sum(1 for t in tokens if t in words)
            for lang, words in self._language_words.items()
        }
        best = max(counts, key=lambda lang: counts[lang], default=None)
        if best is None or counts[best] < MIN_LANGUAGE_WORDS:
            return None
        if sum(1 for c in counts.values() if c == counts[best]) > 1:
            return None
        return best

    def _wanted_language(self, tokens: tuple[str, ...]) -> str | None:
        """The language of the longest switch phrase found: "i don't speak vietnamese" asks
        for English, though it names Vietnamese."""
        found = [
            (len(phrase), language)
            for language, phrases in self._to_language.items()
            for phrase in phrases
            if self._contains(tokens, phrase)
        ]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    @classmethod
    def _has_any(cls, tokens: tuple[str, ...], phrases: frozenset[tuple[str, ...]]) -> bool:
        return any(cls._contains(tokens, phrase) for phrase in phrases)

    @staticmethod
    def _contains(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
        size = len(phrase)
        return any(
            tokens[start : start + size] == phrase for start in range(len(tokens) - size + 1)
        )

    def _says_it_is_feedback(self, tokens: Tokens, *, in_marked_text: bool) -> bool:
        """Whether the message names itself feedback ("khiếu nại", "góp ý"): no word of the
        phrase written with other diacritics, and in a message with diacritics, some word with
        its own."""
        for phrase in self._says_feedback:
            size = len(phrase.words)
            for start in range(len(tokens.words) - size + 1):
                if tokens.words[start : start + size] != phrase.words:
                    continue
                written = tokens.marks[start : start + size]
                pairs = list(zip(written, phrase.marks, strict=True))
                if any(w is not None and w != m for w, m in pairs):
                    continue
                if not in_marked_text or any(w is not None for w, _ in pairs):
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
