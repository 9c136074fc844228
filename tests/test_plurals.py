"""English plurals go through ngettext: no "day(s)" anywhere a citizen reads."""

from __future__ import annotations

from bot.i18n import ngettext_for
from bot.tools.i18n import extract
from bot.wording import days_text, minutes_phrase


def test_no_text_hedges_a_plural() -> None:
    hedged = [m.id for m in extract() if m.id and "(s)" in str(m.id)]
    assert hedged == []


def test_english_counts_agree_and_vietnamese_has_one_form() -> None:
    en, vi = ngettext_for("en"), ngettext_for("vi")
    assert (days_text(1, en), days_text(3, en)) == ("1 day", "3 days")
    assert (minutes_phrase(1, en), minutes_phrase(15, en)) == ("1 minute", "15 minutes")
    assert (days_text(1, vi), days_text(3, vi)) == ("1 ngày", "3 ngày")
    assert minutes_phrase(15, vi) == "15 phút"
