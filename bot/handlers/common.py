"""Small replies many handlers share."""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.handlers.context import Context
from bot.i18n import LANGUAGES, N_, gettext_for
from bot.messages import Button, Reply, Response

CODE_EXAMPLE = "000.00.53.H48-220921-0099"


def respond(ctx: Context, *replies: Reply, notice: str | None = None) -> Response:
    """A response in the user's language."""
    return Response(replies=tuple(replies), notice=notice, language=ctx.language)


def text(ctx: Context, message: str, *rows: tuple[Button, ...]) -> Response:
    """One plain message, optionally with rows of buttons."""
    return respond(ctx, Reply(message, buttons=tuple(rows)))


def expired_button(ctx: Context) -> Response:
    """The answer to a stale, forged or no-longer-valid button."""
    _ = ctx._
    return respond(
        ctx,
        notice=_("This button has expired. Please send the dossier code again."),
    )


def case_system_busy(ctx: Context) -> str:
    """The case system is down or slow: say so plainly."""
    return ctx._(
        "The dossier system is busy right now. Please try again in a few minutes. "
        "Nothing you sent has been lost."
    )


def code_shape_help(ctx: Context) -> str:
    """How a dossier code looks."""
    return ctx._(
        "A dossier code looks like {example}: it is printed on your receipt "
        "(“Giấy tiếp nhận hồ sơ và hẹn trả kết quả”)."
    ).format(example=CODE_EXAMPLE)


LOOKUP_LABEL = N_("🔎 Look up a dossier")
MINE_LABEL = N_("📂 My dossiers")
HELP_LABEL = N_("❓ Help")
FEEDBACK_LABEL = N_("✍️ Feedback")
MENU = (LOOKUP_LABEL, MINE_LABEL, HELP_LABEL, FEEDBACK_LABEL)


def menu(ctx: Context) -> tuple[str, ...]:
    """The persistent menu's labels in the user's language (they come back as typed text)."""
    return menu_in(ctx.language)


def menu_in(language: str) -> tuple[str, ...]:
    """The persistent menu's labels in `language`."""
    _ = gettext_for(language)
    return tuple(_(label) for label in MENU)


def menu_choice(message: str) -> str | None:
    """The menu entry (its untranslated label) `message` is, in any language, with or without
    its emoji ("🔎 Tra cứu hồ sơ", "tra cứu hồ sơ"); None for any other message."""
    return _menu_labels().get(_bare_label(message))


@functools.cache
def _menu_labels() -> dict[str, str]:
    return {
        _bare_label(gettext_for(language)(label)): label for language in LANGUAGES for label in MENU
    }


def _bare_label(message: str) -> str:
    """A label without the emoji and punctuation around it, in lower case."""
    words = unicodedata.normalize("NFC", message).casefold().split()
    return _EDGES.sub("", " ".join(words))


_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
