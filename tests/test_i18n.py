"""Every text a citizen can see exists in Vietnamese and English."""

from __future__ import annotations

from bot.i18n import format_money, gettext_for, normalize_language
from bot.tools.i18n import problems


def test_catalogs_are_complete_and_compiled() -> None:
    assert problems() == []


def test_vietnamese_is_the_default_and_has_diacritics() -> None:
    assert normalize_language(None) == "vi"
    assert normalize_language("en-US") == "en"
    assert normalize_language("fr") == "vi"
    assert gettext_for("vi")("Result ready, waiting to be handed over") == "Đã có kết quả, chờ trả"


def test_money_uses_the_languages_grouping() -> None:
    assert format_money(1_500_000, "vi") == "1.500.000"
    assert format_money(1_500_000, "en") == "1,500,000"
