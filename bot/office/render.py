"""Pages from Jinja2 templates, in the official's language, through the project's catalogs.

One environment per language with gettext installed from `bot.i18n` (newstyle: ``_("…
%(name)s", name=value)`` escapes its arguments). Autoescaping is on for every template, so
citizens' words are always shown as text.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.i18n import LANGUAGES, format_date, format_datetime, translations

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment(language: str) -> Environment:
    """The template environment speaking `language`."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "svg")),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    env.filters["pct"] = _percent
    return env


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")


def _percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def language_of(request: Request) -> str:
    """The official's chosen language (the session's), Vietnamese by default."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    return chosen if chosen in LANGUAGES else "vi"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    tz: ZoneInfo,
    status_code: int = 200,
) -> HTMLResponse:
    """The page `template` with `context` and what every page needs (language, CSRF token)."""
    language = language_of(request)
    page = environment(language).get_template(template)

    def local_date(moment: datetime | None) -> str:
        return "" if moment is None else format_date(moment, tz)

    def local_datetime(moment: datetime | None) -> str:
        return "" if moment is None else format_datetime(moment, tz)

    html = page.render(
        {
            "lang": language,
            "other_lang": "en" if language == "vi" else "vi",
            "csrf": request.session.get("csrf", "") if "session" in request.scope else "",
            "path": request.url.path,
            "local_date": local_date,
            "local_datetime": local_datetime,
            "staff": None,
            **context,
        }
    )
    headers = {
        # Nothing from elsewhere: no script, style, image or frame from another origin.
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(html, status_code=status_code, headers=headers)
