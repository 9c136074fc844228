"""Turning what people type into comparable tokens.

``"Hồ sơ của e xong chưa ạ!!! 🙏"`` → ``("ho", "so", "cua", "em", "xong", "chua", "a", "thanks")``:
lower case, Vietnamese diacritics folded (``đ`` → ``d``), emoji that carry meaning mapped to
words, letters repeated three times or more collapsed (``okkk`` → ``ok``), punctuation dropped,
chat abbreviations expanded (``e`` → ``em``). The tables come from the phrase files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# Letters with Vietnamese (or other Latin) diacritics, precomposed or combining.
_MARKED = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")


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


def has_diacritics(text: str) -> bool:
    """Whether `text` has letters with diacritics (a strong sign of Vietnamese)."""
    return _MARKED.search(text) is not None


class Normaliser:
    """Text → tokens, with one language-independent folding and the files' tables."""

    def __init__(
        self, abbreviations: Mapping[str, tuple[str, ...]], emoji: Mapping[str, str]
    ) -> None:
        self._abbreviations = dict(abbreviations)
        table = dict(FOLDING)
        for symbol, word in emoji.items():
            if len(symbol) == 1:
                table[ord(symbol)] = f" {word} "
        self._table = table
        # Emoji written with several code points (❤️ = ❤ + variation selector) are replaced
        # by their first code point's entry; the rest falls away as punctuation.

    def fold(self, text: str) -> str:
        """Lower case, without diacritics, emoji mapped to words, long repeats collapsed."""
        folded = text.lower().translate(self._table)
        return _REPEATS.sub(r"\1", folded)

    def written_words(self, text: str) -> list[str]:
        """The words as written: folded, but no emoji mapped and no abbreviation expanded
        (what tells the language of a message)."""
        folded = _REPEATS.sub(r"\1", text.lower().translate(FOLDING))
        return [w for w in _TOKEN.findall(folded) if w not in self._abbreviations]

    def tokens(self, text: str) -> tuple[str, ...]:
        """The words of `text`, folded and with abbreviations expanded."""
        return self.expand(_TOKEN.findall(self.fold(text)))

    def expand(self, raw: list[str]) -> tuple[str, ...]:
        """Abbreviations expanded; an unknown ``x/y`` split into its parts."""
        out: list[str] = []
        for token in raw:
            expansion = self._abbreviations.get(token)
            if expansion is not None:
                out.extend(expansion)
            elif "/" in token:
                for part in token.split("/"):
                    if part:
                        out.extend(self._abbreviations.get(part, (part,)))
            else:
                out.append(token)
        return tuple(out)
