"""Looking up a dossier by its code: the core of the service."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot import payloads
from bot.domain.brief import for_chat
from bot.domain.codes import DossierCode, InvalidCode, parse_code
from bot.domain.dossier import Dossier
from bot.handlers import confirm, topic
from bot.handlers.common import case_system_busy, expired_button, respond
from bot.handlers.context import Context
from bot.handlers.limits import lookup_buckets, minutes_text
from bot.handlers.render import render_dossier
from bot.messages import Button, Reply, Response
from bot.payloads import Action
from bot.ports import CaseApiUnavailable, DossierNotFound, OwnedDossier, UnitOfWork
from bot.wording import minutes_phrase

log = logging.getLogger(__name__)


def dossier_buttons(
    ctx: Context, dossier: Dossier, *, owner: bool, subscribed: bool
) -> tuple[tuple[Button, ...], ...]:
    """The buttons under a lookup answer."""
    _ = ctx._
    code = dossier.code
    refresh = Button(_("🔄 Refresh"), payloads.make(Action.LOOKUP, code))
    if not owner:
        return (
            (Button(_("🔐 This is my dossier"), payloads.make(Action.VERIFY, code)),),
            (refresh,),
        )
    if dossier.status.is_final:
        return ((refresh,),)
    follow = (
        Button(_("🔕 Stop notices"), confirm.signed(ctx, Action.UNSUBSCRIBE, code))
        if subscribed
        else Button(_("🔔 Notify me"), payloads.make(Action.SUBSCRIBE, code))
    )
    return ((follow, refresh),)


def dossier_reply(
    ctx: Context,
    dossier: Dossier,
    *,
    owner: bool,
    subscribed: bool,
    edit: bool = False,
    intro: str = "",
) -> Reply:
    """The lookup answer for a dossier, for an owner or a stranger."""
    body = render_dossier(dossier, owner=owner, now=ctx.now, texts=ctx.texts)
    if owner and subscribed and not dossier.status.is_final:
        body += "\n" + ctx._("🔔 You will be notified when anything changes.")
    return Reply(
        (intro + "\n\n" + body) if intro else body,
        buttons=dossier_buttons(ctx, dossier, owner=owner, subscribed=subscribed),
        edit=edit,
    )


async def show_dossier(
    ctx: Context, dossier: Dossier, *, edit: bool = False, intro: str = ""
) -> Reply:
    """The lookup answer for a dossier already fetched, tailored to whether the user owns it."""
    async with ctx.tx() as uow:
        owner = await uow.owners.is_owner(ctx.user.id, dossier.code)
        subscribed = owner and await uow.subscriptions.is_subscribed(ctx.user.id, dossier.code)
    return dossier_reply(ctx, dossier, owner=owner, subscribed=subscribed, edit=edit, intro=intro)


async def fetch(ctx: Context, code: str) -> Dossier | str:
    """The dossier, or the message to show instead (not found / system busy)."""
    _ = ctx._
    try:
        return await ctx.case_api.get_dossier(code)
    except DossierNotFound:
        return _(
            "No dossier with code {code} was found. Please check the code on your receipt."
        ).format(code=code)
    except CaseApiUnavailable:
        return case_system_busy(ctx)


async def fetch_in_context(ctx: Context, code: str) -> tuple[Dossier | str, bool]:
    """The dossier we are talking about (or the message to show instead), for a question
    about it ("the fee?", "where to collect?"), and whether the user owns it.

    Asking the case system about a dossier one does not own is a lookup however it is asked:
    one is reserved from the account's limits first, as for a typed code (otherwise a forged
    "this is my dossier" button followed by questions would look up any code without limit).
    The answer is cut for chat, like a lookup's.
    """
    async with ctx.tx() as uow:
        owner = await uow.owners.is_owner(ctx.user.id, code)
        wait: float | None = None
        if not owner:
            reservation = await uow.rate_limits.reserve(lookup_buckets(ctx), now=ctx.now)
            if not reservation.granted:
                wait = reservation.retry_after_seconds
    if wait is not None:
        return limit_reached(ctx, wait), False
    found = await fetch(ctx, code)
    return (found if isinstance(found, str) else for_chat(found)), owner


def limit_reached(ctx: Context, wait: float) -> str:
    """What the user is told when their lookups are used up for now."""
    log.info("lookup limit reached for user %s", ctx.user.id)
    return ctx._(
        "You have looked up many dossiers in a short time. Please try again in {wait}."
    ).format(wait=minutes_phrase(minutes_text(wait), ctx.ngettext))


@dataclass(frozen=True, slots=True)
class _Allowed:
    code: str
    owner: bool
    subscribed: bool


@dataclass(frozen=True, slots=True)
class Reserved:
    """The lookups of a message, reserved (and the first made the dossier in context)."""

    codes: tuple[str, ...]
    allowed: list[_Allowed]
    wait: float | None


async def reserve(
    uow: UnitOfWork,
    ctx: Context,
    codes: list[DossierCode],
    *,
    known: dict[str, OwnedDossier | None] | None = None,
) -> Reserved:
    """Reserve the lookups of `codes` (the first few) inside the caller's transaction, note
    the ownerships (`known`: those already read with the user) and make the first one the
    dossier we are talking about. The core calls it in the transaction that loads the user,
    so a typed lookup costs one transaction; `lookup_codes` answers from the result."""
    shown = codes[: ctx.config.max_codes_per_message]
    allowed, wait = await _count_and_check_in(uow, ctx, shown, known or {})
    if allowed:
        await topic.remember(uow, ctx, allowed[0].code)
    return Reserved(tuple(str(code) for code in shown), allowed, wait)


async def _count_and_check(
    ctx: Context, codes: list[DossierCode]
) -> tuple[list[_Allowed], float | None]:
    """Reserve the lookups from the account's limits, note which dossiers the user owns, and
    make the first one the dossier we are talking about — one transaction."""
    async with ctx.tx() as uow:
        allowed, wait = await _count_and_check_in(uow, ctx, codes, {})
        if allowed:
            await topic.remember(uow, ctx, allowed[0].code)
        return allowed, wait


async def _count_and_check_in(
    uow: UnitOfWork,
    ctx: Context,
    codes: list[DossierCode],
    known: dict[str, OwnedDossier | None],
) -> tuple[list[_Allowed], float | None]:
    """Each lookup is reserved here, before the case API is asked; a lookup is never given
    back. `known`: ownerships already read in this transaction, by code."""
    allowed: list[_Allowed] = []
    wait: float | None = None
    buckets = lookup_buckets(ctx)
    for code in codes:
        reservation = await uow.rate_limits.reserve(buckets, now=ctx.now)
        if not reservation.granted:
            wait = reservation.retry_after_seconds
            break
        text = str(code)
        if text in known:
            owned = known[text]
        else:
            owned = await uow.owners.find(ctx.user.id, text)
        allowed.append(_Allowed(text, owned is not None, owned is not None and owned.subscribed))
    if allowed:
        # Counted for the officials' usage page, per agency (a code starts with its agency's),
        # in memory: the tally is written every few seconds (`bot.usage`).
        local = ctx.now.astimezone(ctx.config.tz)
        ctx.deps.lookups.count(
            [item.code.partition("-")[0] for item in allowed],
            day=local.year * 10000 + local.month * 100 + local.day,
        )
    return allowed, wait


async def lookup_codes(ctx: Context, codes: list[DossierCode]) -> Response:
    """Answer a message that contained one or more dossier codes: the lookup reservations,
    the ownerships and the new dossier in context in one transaction, then the case API."""
    shown = codes[: ctx.config.max_codes_per_message]
    reserved = ctx.reserved_lookup
    if isinstance(reserved, Reserved) and reserved.codes == tuple(str(c) for c in shown):
        allowed, wait = reserved.allowed, reserved.wait
    else:
        allowed, wait = await _count_and_check(ctx, shown)
    return await _answer(ctx, codes, allowed, wait)


async def _answer(
    ctx: Context, codes: list[DossierCode], allowed: list[_Allowed], wait: float | None
) -> Response:
    _ = ctx._
    limit = ctx.config.max_codes_per_message
    found = await asyncio.gather(*(fetch(ctx, item.code) for item in allowed))
    replies = [
        Reply(result)
        if isinstance(result, str)
        else dossier_reply(ctx, result, owner=item.owner, subscribed=item.subscribed)
        for item, result in zip(allowed, found, strict=True)
    ]
    if wait is not None:
        replies.append(Reply(limit_reached(ctx, wait)))
    elif len(codes) > limit:
        replies.append(
            Reply(
                _("I looked up the first {count} codes. Please send the others separately.").format(
                    count=limit
                )
            )
        )
    return respond(ctx, *replies)


async def refresh(ctx: Context, argument: str) -> Response:
    """The "refresh" button: look the dossier up again and update the message in place."""
    try:
        code = parse_code(argument)
    except InvalidCode:
        return expired_button(ctx)
    allowed, wait = await _count_and_check(ctx, [code])
    if wait is not None:
        return respond(
            ctx,
            notice=ctx._("Too many lookups. Please try again in {wait}.").format(
                wait=minutes_phrase(minutes_text(wait), ctx.ngettext)
            ),
        )
    item = allowed[0]
    found = await fetch(ctx, item.code)
    if isinstance(found, str):
        return respond(ctx, notice=found[:190])
    reply = dossier_reply(ctx, found, owner=item.owner, subscribed=item.subscribed, edit=True)
    return respond(ctx, reply, notice=ctx._("Updated."))
