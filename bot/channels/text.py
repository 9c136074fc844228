"""Helpers every channel adapter needs to fit Replies into its platform's limits."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import SHARE_CONTACT, Button


def split_text(text: str, limit: int, *, units: Callable[[str], int] = len) -> list[str]:
    """`text` cut into pieces of at most `limit` (as `units` measures), at line or word
    boundaries.

    A piece is cut at the last line break that fits, else at the last space, else wherever
    the limit falls (one very long word). The separator at a cut is dropped; blank pieces are
    left out.
    """
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        fit = _longest_prefix(rest, limit, units)
        window = rest[:fit]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            pieces.append(window)
            rest = rest[fit:]
        else:
            pieces.append(window[:cut].rstrip())
            rest = rest[cut + 1 :]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _longest_prefix(text: str, limit: int, units: Callable[[str], int]) -> int:
    """The most characters of `text` whose measure is at most `limit` (at least 1)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if units(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def is_contact_button(button: Button) -> bool:
    """Whether the button only labels the platform's "share my phone number" request."""
    return button.payload == SHARE_CONTACT or button.payload.startswith(SHARE_CONTACT + ":")
