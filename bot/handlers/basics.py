"""Start, help, language, forget-me, and answers to what the bot cannot read."""

from __future__ import annotations

import logging

from bot import payloads
from bot.handlers import confirm, privacy
from bot.handlers.common import (
    FEEDBACK_LABEL,
    code_shape_help,
    expired_button,
    menu,
    menu_in,
    respond,
    text,
)
from bot.handlers.context import Context
from bot.handlers.limits import erasure_note
from bot.i18n import LANGUAGES, format_number, gettext_for
from bot.messages import Attachment, Button, Reply, Response
from bot.payloads import Action
from bot.ports import MAX_FEEDBACK_TEXT

log = logging.getLogger(__name__)


def help_text(ctx: Context) -> str:
    """What the bot can do, in a few lines."""
    _ = ctx._
    return "\n".join(
        [
            _("Send me your dossier code to see its status and appointment date."),
            code_shape_help(ctx),
            "",
            _(
                "You can also simply write, e.g. “hồ sơ của tôi xong chưa?”, “lấy kết quả ở "
                "đâu?”, “lệ phí bao nhiêu?”, “góp ý”, or use the menu."
            ),
            "",
            _("Commands:"),
            _("/mine or /hoso — the dossiers you follow"),
            _("/lang or /ngonngu — Tiếng Việt / English"),
            _("/privacy or /quyenriengtu — what is stored about you, and why"),
            _("/forget or /xoa — erase everything stored about you"),
            _("/help or /trogiup — this help"),
        ]
    )


def language_buttons() -> tuple[Button, ...]:
    """One button per language, labelled in that language."""
    return (
        Button("🇻🇳 Tiếng Việt", payloads.make(Action.LANGUAGE, "vi")),
        Button("🇬🇧 English", payloads.make(Action.LANGUAGE, "en")),
    )


async def start(ctx: Context, _argument: str) -> Response:
    """``/start`` without a payload: greet and explain, with the persistent menu; then the
    language choice (a message carries one keyboard: the menu, or inline buttons)."""
    _ = ctx._
    greeting = _(
        "Hello! I am the chat assistant of {office}. I can tell you how your dossier is going "
        "and let you know when the result is ready."
    ).format(office=ctx.config.office_name)
    body = "\n\n".join([greeting, help_text(ctx), privacy.short_notice(_)])
    return respond(
        ctx,
        Reply(body, menu=menu(ctx)),
        Reply(_("Choose your language:"), buttons=(language_buttons(),)),
    )


async def help_(ctx: Context, _argument: str) -> Response:
    """``/help``, "hướng dẫn": what the bot does, with the menu."""
    return respond(ctx, Reply(help_text(ctx), menu=menu(ctx)))


async def choose_language(ctx: Context, argument: str) -> Response:
    """``/lang [vi|en]`` or a language button."""
    wanted = argument.strip().lower()
    if wanted in LANGUAGES:
        async with ctx.tx() as uow:
            await uow.users.set_language(ctx.user.id, wanted)
        _ = gettext_for(wanted)
        # The menu in the new language (on Telegram the keyboard stays until replaced).
        switched = Reply(_("I will speak English with you from now on."), menu=menu_in(wanted))
        return Response(
            replies=(switched,),
            notice=_("Language changed."),
            language=wanted,
        )
    if ctx.incoming.payload is not None:
        return expired_button(ctx)
    return text(ctx, ctx._("Choose your language:"), language_buttons())


def forget_paragraphs(ctx: Context) -> list[str]:
    """What /forget erases and what it leaves, one paragraph per subject, then the question."""
    _ = ctx._
    return [
        _(
            "This erases everything stored about you: your language, the dossiers you confirmed, "
            "the phone number you shared to confirm them, your notices, and where you are in a "
            "survey you have not finished."
        ),
        _(
            "Survey answers you already gave stay, because they are stored without your chat "
            "account and cannot be traced back to you. Your dossiers at the office are not "
            "affected."
        ),
        erasure_note(ctx),
        _("Continue?"),
    ]


async def forget(ctx: Context, _argument: str) -> Response:
    """``/forget``: ask before erasing everything."""
    _ = ctx._
    return text(
        ctx,
        "\n\n".join(forget_paragraphs(ctx)),
        (
            Button(_("🗑 Yes, erase"), confirm.signed(ctx, Action.FORGET_YES)),
            Button(_("Keep my data"), payloads.make(Action.FORGET_NO)),
        ),
    )


async def forget_confirmed(ctx: Context, argument: str) -> Response:
    """The "yes, erase" button: erases only with a fresh confirmation token of this user."""
    if confirm.confirmed(ctx, Action.FORGET_YES, argument) is None:
        log.info("refused an erase button without a valid confirmation from user %s", ctx.user.id)
        return text(
            ctx,
            ctx._(
                "This button is no longer valid, so nothing was erased. To erase your data, "
                "send /forget and confirm."
            ),
        )
    language = ctx.language
    async with ctx.tx() as uow:
        await uow.users.erase(ctx.user.id)
    log.info("user %s erased their data", ctx.user.id)
    _ = gettext_for(language)
    return Response(
        replies=(
            Reply(
                _(
                    "Done. Everything stored about you has been erased. "
                    "Send a dossier code any time to start again."
                ),
                edit=True,
            ),
        ),
        language=language,
    )


async def forget_cancelled(ctx: Context, _argument: str) -> Response:
    """The "keep my data" button."""
    return respond(ctx, Reply(ctx._("Nothing was erased."), edit=True))


def attachment(ctx: Context, kind: str) -> Response:
    """Something the bot cannot read: ask for typed text."""
    _ = ctx._
    if kind == Attachment.FOREIGN_CONTACT:
        return text(
            ctx,
            _(
                "Please share your own phone number with the button below the chat, "
                "not someone else's contact."
            ),
        )
    if kind == Attachment.IMAGE:
        return text(
            ctx,
            _("I cannot read pictures yet. Please type the dossier code from your receipt.")
            + "\n"
            + code_shape_help(ctx),
        )
    return text(
        ctx,
        _("I can only read text. Please type the dossier code from your receipt.")
        + "\n"
        + code_shape_help(ctx),
    )


def unknown_command(ctx: Context, command: str) -> Response:
    """A ``/command`` we do not have."""
    _ = ctx._
    return text(
        ctx,
        _("I do not know the command /{command}.").format(command=command[:32])
        + "\n\n"
        + help_text(ctx),
    )


def too_long(ctx: Context) -> Response:
    """A message over the length we read, and not feedback: what to do instead."""
    _ = ctx._
    return text(
        ctx,
        _(
            "Your message is too long for me to read (over {limit} characters). To ask about "
            "a dossier, please send its code or a short question. To send feedback or a "
            "complaint to the office, press “{feedback}” and write it in one message (up to "
            "{feedback_limit} characters)."
        ).format(
            limit=format_number(ctx.config.max_text_length, ctx.language),
            feedback=_(FEEDBACK_LABEL),
            feedback_limit=format_number(MAX_FEEDBACK_TEXT, ctx.language),
        )
        + "\n"
        + code_shape_help(ctx),
    )


def empty(ctx: Context) -> Response:
    """An empty message."""
    return text(ctx, ctx._("Your message was empty.") + "\n" + code_shape_help(ctx))
