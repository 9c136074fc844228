"""Feedback and complaints for the office, and the messages the bot could not answer.

Both are kept with the agency of the dossier we are talking about (if any), the channel and
the time, their digits masked (`bot.domain.masking`): staff read them, and a phone number or a
PIN typed into them must not be kept. Feedback stays until the office closes it (the officials'
pages answer it; the answer reaches the citizen as a notice); unanswered messages are deleted
by housekeeping after `UNANSWERED_RETENTION`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import payloads
from bot.domain.codes import InvalidCode, parse_code
from bot.domain.masking import mask_digits
from bot.handlers import topic
from bot.handlers.common import FEEDBACK_LABEL, respond, text
from bot.handlers.context import Context
from bot.handlers.lookup import fetch_in_context
from bot.i18n import format_number
from bot.messages import Button, Reply, Response
from bot.payloads import Action
from bot.ports import MAX_FEEDBACK_TEXT, ConversationState
from bot.understanding import Understanding

log = logging.getLogger(__name__)

UNANSWERED_RETENTION = timedelta(days=30)
FEEDBACK_WAIT_SECONDS = 15 * 60
COMPLAINT = "complaint"  # in the waiting state's data: the awaited text is a complaint


def agency_of(code: str | None) -> str | None:
    """The receiving agency's identifier, read from a dossier code (no case API call)."""
    if code is None:
        return None
    try:
        return parse_code(code).agency_id
    except InvalidCode:
        return None


def _cancel_button(ctx: Context) -> tuple[Button, ...]:
    return (Button(ctx._("✖ Cancel"), payloads.make(Action.CANCEL)),)


async def ask_for_feedback(ctx: Context, *, complaint: bool = False) -> Response:
    """ "I want to give feedback" (or "I want to complain") with nothing more: ask for it in
    the next message, remembering whether it is a complaint."""
    _ = ctx._
    code = await topic.dossier_in_context(ctx)
    async with ctx.tx() as uow:
        await topic.wait_for(
            uow,
            ctx,
            topic.AWAITING_FEEDBACK,
            code,
            FEEDBACK_WAIT_SECONDS,
            {COMPLAINT: True} if complaint else None,
        )
    return respond(
        ctx,
        Reply(
            _(
                "Please write your feedback or complaint in one message. It goes to the "
                "one-stop-shop office; do not include your phone number or PIN (digits are "
                "hidden before it is stored)."
            ),
            buttons=(_cancel_button(ctx),),
        ),
    )


async def store_feedback(ctx: Context, message: str, *, complaint: bool) -> Response:
    """Keep a feedback or complaint for the office and say honestly what happens next (and
    that it was cut, if it is longer than the storage keeps)."""
    _ = ctx._
    cut = len(message) > MAX_FEEDBACK_TEXT
    code = await topic.dossier_in_context(ctx)
    procedure: str | None = None
    agency: str | None = agency_of(code)
    if code is not None:
        found, _owner = await fetch_in_context(ctx, code)
        if not isinstance(found, str):
            procedure, agency = found.procedure.code, found.agency.code
    async with ctx.tx() as uow:
        number = await uow.feedback.add(
            channel=ctx.incoming.channel,
            user_id=ctx.user.id,
            agency_code=agency,
            procedure_code=procedure,
            kind="complaint" if complaint else "feedback",
            text=mask_digits(message[:MAX_FEEDBACK_TEXT]),
            language=ctx.language,
            now=ctx.now,
        )
        await topic.back_to_talking(uow, ctx, code)
    log.info("feedback %s stored from user %s", number, ctx.user.id)
    lines = [
        _(
            "Thank you. Your message has been passed to the one-stop-shop office (no. {number})."
        ).format(number=number),
        _(
            "Staff read messages on working days. If an answer is needed, it will come to you "
            "in this chat."
        ),
    ]
    if cut:
        limit = format_number(MAX_FEEDBACK_TEXT, ctx.language)
        lines.append(
            _(
                "Your message was longer than {limit} characters, so only its first {limit} "
                "characters were kept. To send the rest, press “{feedback}” and write it in "
                "a new message."
            ).format(limit=limit, feedback=ctx._(FEEDBACK_LABEL))
        )
    if complaint:
        lines.append(
            _(
                "Please note: a chat message is not a formal complaint under the Law on "
                "Complaints 2011. For that, submit a written complaint at the office or on the "
                "National Public Service Portal."
            )
        )
    return text(ctx, "\n".join(lines))


async def while_waiting(
    ctx: Context, message: str, understood: Understanding, state: ConversationState
) -> Response:
    """The message written after "please write your feedback": kept, as a complaint if the
    citizen asked to complain — unless it only says "never mind" (the wait ends, nothing is
    kept) or is only an "ok", a 👍 or a hello (they are asked again; nothing is kept)."""
    _ = ctx._
    code = topic.code_of(state)
    if understood.cancel:
        async with ctx.tx() as uow:
            await topic.back_to_talking(uow, ctx, code)
        return text(ctx, _("Cancelled: nothing was sent to the office."))
    if understood.only_courtesy:
        return text(
            ctx,
            _(
                "I am waiting for your feedback or complaint: please write it in one message, "
                "or press “Cancel”."
            ),
            _cancel_button(ctx),
        )
    complaint = is_complaint(state) or understood.complaint
    return await store_feedback(ctx, message, complaint=complaint)


def is_complaint(state: ConversationState) -> bool:
    """Whether the feedback a waiting state awaits was announced as a complaint."""
    return state.data.get(COMPLAINT) is True


async def remember_unanswered(ctx: Context, message: str) -> None:
    """Keep a message the bot could not answer, for the office to improve the answers."""
    code = await topic.dossier_in_context(ctx)
    async with ctx.tx() as uow:
        await uow.feedback.add_unanswered(
            channel=ctx.incoming.channel,
            language=ctx.language,
            agency_code=agency_of(code),
            text=mask_digits(message),
            now=ctx.now,
        )
