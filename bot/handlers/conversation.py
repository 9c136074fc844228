"""Answers to what citizens write in their own words: greetings, thanks, "is mine ready?",
"stop the messages", and the one short answer for what the bot does not understand.

The router (`bot.core`) picks these from the intent the understanding step found.
"""

from __future__ import annotations

from bot import payloads
from bot.domain.codes import InvalidCode, parse_code
from bot.handlers import confirm, lookup, mine, topic
from bot.handlers.basics import language_buttons
from bot.handlers.common import code_shape_help, menu, respond, text
from bot.handlers.context import Context
from bot.i18n import gettext_for
from bot.messages import Button, Reply, Response
from bot.payloads import Action


def capabilities(ctx: Context) -> str:
    """What the bot can do, in one short paragraph."""
    return ctx._(
        "I can tell you how your dossier is going (send its code), where and when to collect "
        "the result and what it costs, let you know when it is ready, and pass your feedback "
        "to the office."
    )


async def greeting(ctx: Context) -> Response:
    """Hello."""
    _ = ctx._
    hello = _("Hello! I am the assistant of the one-stop-shop office (bộ phận một cửa).")
    return respond(ctx, Reply(hello + " " + capabilities(ctx), menu=menu(ctx)))


async def thanks(ctx: Context) -> Response:
    """Thanks, "ok", 👍: a thank-you, not an instruction."""
    return text(ctx, ctx._("You're welcome! Write to me any time you need something."))


async def status(ctx: Context) -> Response:
    """ "Is my dossier ready?": the followed dossier(s), the one in context, or ask the code."""
    _ = ctx._
    async with ctx.tx() as uow:
        owned = await uow.owners.list_for_user(ctx.user.id)
        code = topic.code_of(await uow.conversations.get(ctx.user.id, now=ctx.now))
    if len(owned) > 1:
        return await mine.mine(ctx, "")
    wanted = owned[0].dossier_code if owned else code
    if wanted is not None:
        try:
            return await lookup.lookup_codes(ctx, [parse_code(wanted)])
        except InvalidCode:
            pass
    return text(
        ctx,
        _("To tell you how your dossier is going, I need its code.")
        + "\n"
        + code_shape_help(ctx)
        + "\n"
        + _("Once you confirm a dossier is yours, just ask “xong chưa?” and I will show it."),
    )


async def stop(ctx: Context, *, all_dossiers: bool) -> Response:
    """ "No more messages": which notices to stop, confirmed by a button."""
    _ = ctx._
    async with ctx.tx() as uow:
        owned = await uow.owners.list_for_user(ctx.user.id)
        code = topic.code_of(await uow.conversations.get(ctx.user.id, now=ctx.now))
    followed = [o.dossier_code for o in owned if o.subscribed]
    if not followed:
        return text(ctx, _("You are not receiving any notices at the moment."))
    rows: list[tuple[Button, ...]] = []
    if not all_dossiers and code in followed and len(followed) > 1:
        label = _("🔕 Only dossier {code}").format(code=code)
        rows.append((Button(label, confirm.signed(ctx, Action.UNSUBSCRIBE, code or "")),))
    stop_all = confirm.signed(ctx, Action.UNSUBSCRIBE_ALL)
    rows.append((Button(_("🔕 Stop all notices"), stop_all),))
    rows.append((Button(_("Keep my notices"), payloads.make(Action.DISMISS)),))
    question = ctx.ngettext(
        "Stop the notices? You receive them for {count} dossier. You can turn them on "
        "again from “My dossiers”.",
        "Stop the notices? You receive them for {count} dossiers. You can turn them on "
        "again from “My dossiers”.",
        len(followed),
    ).format(count=len(followed))
    return respond(ctx, Reply(question, buttons=tuple(rows)))


async def dismissed(ctx: Context, _argument: str) -> Response:
    """The "keep" button of a question: nothing changes."""
    return respond(ctx, Reply(ctx._("OK, nothing was changed."), edit=True))


def ask_for_code(ctx: Context) -> Response:
    """The menu's "Look up a dossier": ask for a code (not the dossier shown last)."""
    _ = ctx._
    return text(
        ctx,
        _("Send me your dossier code to see its status and appointment date.")
        + "\n"
        + code_shape_help(ctx),
    )


def not_understood(ctx: Context, *, looks_like_code: bool, noted: bool) -> Response:
    """One short answer for what the bot does not understand (not the code lecture); it says
    the message was kept for the office only when it was (`noted`): emoji, flags or a script
    the bot cannot read are not kept."""
    _ = ctx._
    if looks_like_code:
        return text(ctx, _("That code is not in the right shape.") + "\n" + code_shape_help(ctx))
    lines = [_("Sorry, I did not understand that.") + " " + capabilities(ctx)]
    if noted:
        lines.append(_("I have noted your question for the office."))
    return respond(ctx, Reply("\n".join(lines), menu=menu(ctx)))


def language_offer(written_in: str) -> Reply:
    """ "You wrote in English: shall I keep to it?" (in that language) with the two buttons."""
    _ = gettext_for(written_in)
    return Reply(
        _("You wrote in English. Shall I use English from now on?")
        if written_in == "en"
        else _("You wrote in Vietnamese. Shall I use Vietnamese from now on?"),
        buttons=(language_buttons(),),
    )
