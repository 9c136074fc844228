"""Turning what people type into comparable tokens.

``"Hồ sơ của e xong chưa ạ!!! 🙏"`` → ``("ho", "so", "cua", "em", "xong", "chua", "a", "thanks")``:
lower case, Vietnamese diacritics folded (``đ`` → ``d``), emoji that carry meaning mapped to
words, letters repeated three times or more collapsed (``okkk`` → ``ok``), punctuation dropped,
chat abbreviations expanded (``e`` → ``em``). The tables come from the phrase files.

Folding alone would make "dùng", "đúng" and "Dũng" the same word as "dừng" (stop), and "vàng"
(gold) the same as "vâng" (yes). So each token also keeps its *marks*: the word as written, with
its diacritics in one canonical spelling (`marks`), or None when it was typed without any. The
matcher compares marks whenever the citizen wrote them (`bot.understanding.matcher`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

# Letters with Vietnamese (or other Latin) diacritics, precomposed or combining.
_MARKED = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_ANY_REPEATS = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")

# The five Vietnamese tone marks (as combining characters): huyền, sắc, ngã, hỏi, nặng.
_TONES = {"\u0300": "f", "\u0301": "s", "\u0303": "x", "\u0309": "r", "\u0323": "j"}


def _folding_table() -> dict[int, str]:
    """Every Latin letter with diacritics → its base letter (đ/Đ → d), combining marks → ''."""
    table: dict[int, str] = {}
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        if base != char and base.isascii():
            table[code] = base.lower()
    table.update({ord("đ"): "d", ord("Đ"): "d", ord("ð"): "d", ord("Ð"): "d"})
    table.update({code: "" for code in range(0x0300, 0x0370)})
    return table


FOLDING = _folding_table()

# A word as written: ASCII letters and digits, the letters that fold to them, combining marks.
_LETTERS = "".join(re.escape(chr(code)) for code, base in FOLDING.items() if base)
_WORD = f"[a-z0-9{_LETTERS}\u0300-\u036f]+"
_RAW_TOKEN = re.compile(f"{_WORD}(?:/{_WORD})*")


def has_diacritics(text: str) -> bool:
    """Whether `text` has letters with diacritics (a strong sign of Vietnamese)."""
    return _MARKED.search(text) is not None


@functools.lru_cache(maxsize=8192)
def canonical_marks(word: str) -> str:
    """`word` (lower case) with its diacritics in one spelling, whatever the keyboard did.

    The tone mark is taken off its vowel and written after the word (``hủy`` and ``huỷ`` are
    both ``huy~r``), so old and new tone placement ("hoà"/"hòa") are the same word; the other
    marks (ă â ê ô ơ ư đ) stay on their letters. A word without diacritics is itself.
    """
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(_TONES[c] for c in decomposed if c in _TONES)
    if not tones:
        return unicodedata.normalize("NFC", decomposed)
    rest = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", rest) + "~" + tones


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of a message: folded (`words`) and, per word, its marks or None (`marks`)."""

    words: tuple[str, ...]
    marks: tuple[str | None, ...]


class Normaliser:
    """Text → tokens, with one language-independent folding and the files' tables.

    `abbreviations` maps an abbreviation as written in a phrase file to its expansion (already
    tokenised). One written without diacritics ("dc") is matched by the folded word; one
    written with them ("đc", "sđt") only by the same marks, so "hồng" is not "hong" (không).
    """

    def __init__(self, abbreviations: Mapping[str, Tokens], emoji: Mapping[str, str]) -> None:
        self._plain: dict[str, Tokens] = {}
        self._marked: dict[str, Tokens] = {}
        for key, expansion in abbreviations.items():
            lowered = key.lower()
            if has_diacritics(lowered):
                self._marked[canonical_marks(lowered)] = expansion
            else:
                self._plain[lowered] = expansion
        emoji_table: dict[int, str] = {}
        for symbol, word in emoji.items():
            if len(symbol) == 1:
                emoji_table[ord(symbol)] = f" {word} "
        # Emoji written with several code points (❤️ = ❤ + variation selector) are replaced
        # by their first code point's entry; the rest falls away as punctuation.
        self._emoji = emoji_table
        table = dict(FOLDING)
        table.update(emoji_table)
        self._table = table

    def fold(self, text: str) -> str:
        """Lower case, without diacritics, emoji mapped to words, long repeats collapsed."""
        folded = text.lower().translate(self._table)
        return _REPEATS.sub(r"\1", folded)

    def written_words(self, text: str) -> list[str]:
        """The words as written: folded, but no emoji mapped and no abbreviation expanded
        (what tells the language of a message)."""
        folded = _REPEATS.sub(r"\1", text.lower().translate(FOLDING))
        return [w for w in _TOKEN.findall(folded) if w not in self._plain]

    def tokens(self, text: str) -> tuple[str, ...]:
        """The words of `text`, folded and with abbreviations expanded."""
        return self.split(text).words

    def split(self, text: str) -> Tokens:
        """The words of `text` with their marks, abbreviations expanded."""
        written = unicodedata.normalize("NFC", text.lower()).translate(self._emoji)
        words: list[str] = []
        marks: list[str | None] = []
        for raw in _RAW_TOKEN.findall(written):
            for part in raw.split("/") if self._lookup(raw) is None and "/" in raw else (raw,):
                expansion = self._lookup(part)
                if expansion is not None:
                    words.extend(expansion.words)
                    marks.extend(expansion.marks)
                    continue
                folded, marked = _word(part)
                if folded:
                    words.append(folded)
                    marks.append(marked)
        return Tokens(tuple(words), tuple(marks))

    def expand(self, raw: list[str]) -> tuple[str, ...]:
        """Folded words with abbreviations expanded; an unknown ``x/y`` split into its parts."""
        out: list[str] = []
        for token in raw:
            expansion = self._plain.get(token)
            if expansion is not None:
                out.extend(expansion.words)
            elif "/" in token:
                for part in token.split("/"):
                    if part:
                        found = self._plain.get(part)
                        out.extend(found.words if found is not None else (part,))
            else:
                out.append(token)
        return tuple(out)

    def _lookup(self, raw: str) -> Tokens | None:
        """The expansion of a written word, if it is an abbreviation."""
        if has_diacritics(raw):
            return self._marked.get(canonical_marks(_ANY_REPEATS.sub(r"\1", raw)))
        return self._plain.get(_REPEATS.sub(r"\1", raw))


@functools.lru_cache(maxsize=8192)
def _word(raw: str) -> tuple[str, str | None]:
    """One written word: folded, and its canonical marks if it carries any."""
    folded = _REPEATS.sub(r"\1", raw.translate(FOLDING))
    if not has_diacritics(raw):
        return folded, None
    return folded, canonical_marks(_ANY_REPEATS.sub(r"\1", raw))


@dataclass(frozen=True, slots=True)
class Spelled:
    """A phrase of a data file: its folded words and each word's marks (always set: the file's
    spelling is the word meant, with or without diacritics — "cho" is not "chợ")."""

    words: tuple[str, ...]
    marks: tuple[str, ...]

    @property
    def tokens(self) -> Tokens:
        """The same words as message tokens."""
        return Tokens(self.words, self.marks)


def phrase_tokens(normaliser: Normaliser, phrase: str) -> Spelled:
    """A phrase of a data file, tokenised with its spelling."""
    split = normaliser.split(phrase)
    marks = tuple(
        m if m is not None else canonical_marks(w)
        for w, m in zip(split.words, split.marks, strict=True)
    )
    return Spelled(split.words, marks)
