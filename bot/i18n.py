"""Texts in the citizen's language, through gettext catalogs managed with Babel.

Message ids are English; `bot/locales/vi` holds the Vietnamese catalog and `bot/locales/en`
the English one (identity translations, kept so both languages are checked for
completeness). Maintain them with ``python -m bot.tools.i18n update|compile|check``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

DOMAIN = "motcua"
LOCALE_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

Gettext = Callable[[str], str]


def normalize_language(code: str | None) -> str:
    """Map a platform language code ("vi", "en-US", …) to one we speak, else the default."""
    if code:
        short = code.split("-")[0].split("_")[0].lower()
        if short in LANGUAGES:
            return short
    return DEFAULT_LANGUAGE


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The compiled catalog for `language` (cached)."""
    return Translations.load(str(LOCALE_DIR), [normalize_language(language)], domain=DOMAIN)


def gettext_for(language: str) -> Gettext:
    """The ``_`` function for `language`."""
    return translations(language).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """The plural-aware ``ngettext`` for `language`."""
    return translations(language).ngettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a text for extraction without translating it now."""
    return message


def format_date(moment: datetime, tz: ZoneInfo) -> str:
    """A date as citizens read it on receipts: dd/mm/yyyy, local time."""
    local = moment.astimezone(tz)  # formatted by hand: strftime is slow on the lookup path
    return f"{local.day:02d}/{local.month:02d}/{local.year:04d}"


def format_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """Local date and time: HH:MM dd/mm/yyyy."""
    local = moment.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d} {local.day:02d}/{local.month:02d}/{local.year:04d}"


def format_number(number: int, language: str) -> str:
    """A count with the language's digit grouping (4.000 / 4,000)."""
    return format_decimal(number, locale="vi_VN" if language == "vi" else "en_US")


def format_money(amount: int, language: str) -> str:
    """An amount of đồng with the language's digit grouping (1.500.000 / 1,500,000)."""
    return format_decimal(amount, locale="vi_VN" if language == "vi" else "en_US")
