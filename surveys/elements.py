"""SIPAS's five elements of satisfaction (design §7), and the values of the two rating scales."""

from __future__ import annotations

from bot.i18n import N_, gettext_for

# The element ids a survey definition may use, in SIPAS's order.
ELEMENTS: tuple[str, ...] = ("access", "procedure", "staff", "result", "feedback")

_LABELS: dict[str, str] = {
    "access": N_("Access to the service"),
    "procedure": N_("Administrative procedure"),
    "staff": N_("Civil servants"),
    "result": N_("Result"),
    "feedback": N_("Handling of feedback"),
}

# A 5-point answer counts as satisfied from this score on (4 = satisfied, 5 = very satisfied).
SCALE5_SATISFIED = 4
# The quick 3-level rating: 3 = very satisfied, 2 = satisfied, 1 = not satisfied.
RATING3_SATISFIED = 2


def element_label(element: str, language: str) -> str:
    """The element's name in `language`."""
    return gettext_for(language)(_LABELS[element])
