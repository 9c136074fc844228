"""The privacy notice (Decree 13/2023/NĐ-CP on personal data protection, design §6).

What is stored, why, for how long, who sees it and how to erase it: in full on ``/privacy``
(and, once the conversation layer routes it, when a citizen asks about "quyền riêng tư" or
"dữ liệu của tôi"), in one line at first contact, and in the phone-sharing prompt.

The notice is a list of paragraphs so that other parts of the service can state their own
facts beside these (`paragraphs`), e.g. how abuse counters outlive an erasure.
"""

from __future__ import annotations

import dataclasses

from bot.handlers.common import text
from bot.handlers.context import Context
from bot.handlers.limits import erasure_note
from bot.i18n import Gettext, gettext_for
from bot.messages import Response
from bot.wording import days_text

NOTICE_RETENTION_DAYS = 30
"""Sent notices are purged this many days after sending (`bot.housekeeping.OUTBOX_RETENTION`,
which a test holds to this figure)."""


def paragraphs(ctx: Context) -> list[str]:
    """The full notice, one paragraph per subject."""
    _, office = ctx._, ctx.config.office_name
    survey_days = max(1, ctx.config.survey_ttl_seconds // 86400)
    return [
        _("🔐 Your personal data (Decree 13/2023/NĐ-CP on personal data protection)"),
        _(
            "What the assistant keeps, and why:\n"
            "• your chat account id and the language you chose — to answer you;\n"
            "• the dossiers you confirmed and whether you follow them — to tell you when they "
            "change;\n"
            "• your phone number, only if you share it to confirm a dossier — to check it against "
            "the number given when you applied, and on Zalo to send you template messages (ZNS) "
            "about that dossier when the chat has been quiet for more than 7 days."
        ),
        _(
            "What it does not keep: your receipt PIN, and the dossier's contents (the applicant's "
            "name, notes, fees) — these are read from the office's case system at each lookup."
        ),
        _(
            "How long: until you erase it with /forget. Notices already sent are deleted "
            "{notice_days} after sending; a survey in progress is forgotten when it ends or "
            "after {survey_days}."
        ).format(
            notice_days=days_text(NOTICE_RETENTION_DAYS, ctx.ngettext),
            survey_days=days_text(survey_days, ctx.ngettext),
        ),
        _(
            "Who sees it: only the staff of {office} who run the assistant, and the chat "
            "platform (Telegram or Zalo) that carries the messages. Nothing is sold or shared "
            "with anyone else."
        ).format(office=office),
        _(
            "Survey answers are stored with the agency, the procedure and the month only — "
            "never with your chat account."
        ),
        erasure_note(ctx),
        _("To erase everything stored about you, send /forget."),
    ]


def privacy_text(ctx: Context) -> str:
    """The full notice for this user."""
    return "\n\n".join(paragraphs(ctx))


def short_notice(_: Gettext) -> str:
    """The one line shown at first contact."""
    return _(
        "🔐 I keep only what I need to answer you and send you notices. /privacy tells you "
        "what, why and for how long; /forget erases it."
    )


def at_first_contact(ctx: Context, response: Response) -> Response:
    """`response` with the one-line notice below its last message, when this is the user's
    first message (the user was created by it)."""
    if not ctx.user.first_contact:
        return response
    if not response.replies:  # only a button's toast: the next message carries the line
        return response
    line = short_notice(gettext_for(response.language))
    *earlier, last = response.replies
    last = dataclasses.replace(last, text=f"{last.text}\n\n{line}")
    return dataclasses.replace(response, replies=(*earlier, last))


async def privacy(ctx: Context, _argument: str) -> Response:
    """``/privacy``: the full notice."""
    return text(ctx, privacy_text(ctx))
