"""Masking what a citizen typed before the office keeps it (design §6).

Feedback and unanswered messages are read by staff and kept for a while; a phone number, a
receipt PIN or an ID-card number typed into them must not be. Every digit becomes ``•``, so
the text keeps its shape ("gọi lại số •••• ••• •••") without its secrets.
"""

from __future__ import annotations

import re

MASK = "•"
_DIGIT = re.compile(r"\d")


def mask_digits(text: str) -> str:
    """`text` with every digit (of any script) replaced by the mask character."""
    return _DIGIT.sub(MASK, text)
