"""Proving a dossier is yours: receipt PIN, shared phone number, or the receipt's deep link."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot import deeplink
from bot.domain.codes import InvalidCode, parse_code
from bot.handlers import payloads
from bot.handlers.common import case_system_busy, expired_button, respond, text
from bot.handlers.context import Context
from bot.handlers.limits import Limit, blocked_for, minutes_text, take
from bot.handlers.lookup import fetch, show_dossier
from bot.handlers.payloads import Action
from bot.messages import Button, Reply, Response
from bot.ports import CaseApiUnavailable, DossierNotFound
from bot.wording import minutes_phrase

log = logging.getLogger(__name__)

AWAITING_PROOF = "awaiting_proof"
PIN_PATTERN = re.compile(r"^\s*(\d{4,8})\s*$")


def pin_limits(ctx: Context, code: str) -> list[Limit]:
    """Failed-PIN limits per dossier and per user (design §6)."""
    window = ctx.config.pin_lockout_minutes * 60
    return [
        Limit(f"pin:dossier:{code}", ctx.config.pin_attempts_per_dossier, window),
        Limit(f"pin:user:{ctx.user.id}", ctx.config.pin_attempts_per_user, window),
    ]


def _locked_text(ctx: Context, wait: int) -> str:
    return ctx._(
        "Too many wrong attempts for this dossier. For your safety, please try again in {wait}."
    ).format(wait=minutes_phrase(minutes_text(wait), ctx.ngettext))


async def start_verification(ctx: Context, argument: str) -> Response:
    """The "this is my dossier" button: ask for the receipt PIN or the phone number."""
    _ = ctx._
    try:
        code = str(parse_code(argument))
    except InvalidCode:
        return expired_button(ctx)
    async with ctx.tx() as uow:
        owner = await uow.owners.is_owner(ctx.user.id, code)
        wait = None if owner else await blocked_for(uow.rate_limits, pin_limits(ctx, code), ctx.now)
        if not owner and wait is None:
            await uow.conversations.set(
                ctx.user.id,
                AWAITING_PROOF,
                {"code": code},
                expires_at=ctx.now + timedelta(seconds=ctx.config.pending_ttl_seconds),
            )
    if owner:
        found = await fetch(ctx, code)
        if isinstance(found, str):
            return text(ctx, found)
        return respond(ctx, await show_dossier(ctx, found), notice=_("Already confirmed."))
    if wait is not None:
        return text(ctx, _locked_text(ctx, wait))
    prompt = "\n\n".join(
        [
            _(
                "To confirm dossier {code} is yours, type the PIN printed on your receipt, "
                "or share the phone number you gave when you applied."
            ).format(code=code),
            phone_use(ctx),
        ]
    )
    return respond(
        ctx,
        Reply(
            prompt,
            buttons=(
                (Button(_("📱 Share my phone number"), payloads.make(Action.CONTACT)),),
                (Button(_("✖ Cancel"), payloads.make(Action.CANCEL)),),
            ),
            request_phone=True,
        ),
    )


def phone_use(ctx: Context) -> str:
    """Why the phone number is asked, what is kept and for how long (Decree 13/2023/NĐ-CP)."""
    return ctx._(
        "🔐 Your phone number is only compared with the one on your dossier. If they match, it "
        "is kept with this dossier so that, on Zalo, notices can reach you as template messages "
        "when the chat has been quiet; it is erased when you send /forget. The PIN is never "
        "kept. /privacy tells more."
    )


async def pending_code(ctx: Context) -> str | None:
    """The dossier the user is proving ownership of, if any."""
    async with ctx.tx() as uow:
        state = await uow.conversations.get(ctx.user.id, now=ctx.now)
    if state is None or state.kind != AWAITING_PROOF:
        return None
    code = state.data.get("code")
    return code if isinstance(code, str) else None


async def _confirmed(ctx: Context, code: str, method: str, *, phone: str | None = None) -> Response:
    async with ctx.tx() as uow:
        await uow.owners.add(ctx.user.id, code, method=method, now=ctx.now, phone=phone)
        await uow.subscriptions.subscribe(ctx.user.id, code, now=ctx.now)
        await uow.conversations.clear(ctx.user.id)
    log.info("user %s verified dossier %s by %s", ctx.user.id, code, method)
    intro = ctx._("✅ Confirmed: this dossier is yours.")
    found = await fetch(ctx, code)
    if isinstance(found, str):
        return text(ctx, intro + "\n\n" + found)
    return respond(ctx, await show_dossier(ctx, found, intro=intro))


async def _check(ctx: Context, code: str, *, pin: str | None, phone: str | None) -> Response:
    _ = ctx._
    limits = pin_limits(ctx, code)
    async with ctx.tx() as uow:
        wait = await blocked_for(uow.rate_limits, limits, ctx.now)
    if wait is not None:
        return text(ctx, _locked_text(ctx, wait))
    try:
        verified = await ctx.case_api.verify(code, pin=pin, phone=phone)
    except DossierNotFound:
        async with ctx.tx() as uow:
            await uow.conversations.clear(ctx.user.id)
        return text(ctx, _("No dossier with code {code} was found.").format(code=code))
    except CaseApiUnavailable:
        return text(ctx, case_system_busy(ctx))
    if verified:
        if pin is not None:
            return await _confirmed(ctx, code, "pin")
        return await _confirmed(ctx, code, "phone", phone=phone)
    async with ctx.tx() as uow:
        await take(uow.rate_limits, limits, ctx.now)
        wait = await blocked_for(uow.rate_limits, limits, ctx.now)
        if wait is not None:
            await uow.conversations.clear(ctx.user.id)
    log.info("failed ownership proof for dossier %s by user %s", code, ctx.user.id)
    if wait is not None:
        return text(ctx, _locked_text(ctx, wait))
    if phone is not None:
        return text(
            ctx,
            _(
                "This phone number is not the one registered for dossier {code}. "
                "You can type the PIN printed on your receipt instead."
            ).format(code=code),
        )
    return text(
        ctx,
        _(
            "That PIN does not match dossier {code}. Please check your receipt and try again."
        ).format(code=code),
    )


async def pin_entered(ctx: Context, pin_text: str) -> Response | None:
    """A message while awaiting proof: a PIN attempt, or None if it is not one."""
    code = await pending_code(ctx)
    match = PIN_PATTERN.match(pin_text)
    if code is None or match is None:
        return None
    return await _check(ctx, code, pin=match.group(1), phone=None)


async def phone_shared(ctx: Context, phone: str) -> Response:
    """The platform shared the user's own phone number."""
    code = await pending_code(ctx)
    if code is None:
        return text(
            ctx,
            ctx._(
                "Thank you. Please first send the dossier code, then press “This is my dossier”."
            ),
        )
    return await _check(ctx, code, pin=None, phone=phone)


async def cancel(ctx: Context, _argument: str) -> Response:
    """The cancel button."""
    async with ctx.tx() as uow:
        await uow.conversations.clear(ctx.user.id)
    return text(ctx, ctx._("Cancelled. Send a dossier code whenever you like."))


async def deep_link(ctx: Context, payload: str) -> Response:
    """``/start <payload>`` from the receipt's QR code: verify and subscribe in one tap."""
    _ = ctx._
    secret = ctx.config.deep_link_secret
    code_text = deeplink.read_payload(payload, secret) if secret else None
    if code_text is None:
        log.info("refused a deep link payload for user %s", ctx.user.id)
        return text(
            ctx,
            _(
                "This link is not valid. Please type the dossier code printed on your receipt "
                "instead."
            ),
        )
    try:
        code = str(parse_code(code_text))
        await ctx.case_api.get_dossier(code)
    except (InvalidCode, DossierNotFound):
        return text(ctx, _("This link is not valid. Please type the dossier code instead."))
    except CaseApiUnavailable:
        return text(ctx, case_system_busy(ctx))
    return await _confirmed(ctx, code, "deeplink")


async def subscribe(ctx: Context, argument: str) -> Response:
    """The "notify me" button (verified owners only)."""
    try:
        code = str(parse_code(argument))
    except InvalidCode:
        return expired_button(ctx)
    async with ctx.tx() as uow:
        owner = await uow.owners.is_owner(ctx.user.id, code)
        if owner:
            await uow.subscriptions.subscribe(ctx.user.id, code, now=ctx.now)
    if not owner:
        return expired_button(ctx)
    notice = ctx._("🔔 You will be notified about dossier {code}.").format(code=code)
    return await _redrawn(ctx, code, notice)


async def unsubscribe(ctx: Context, argument: str) -> Response:
    """The "stop notices" button for one dossier."""
    try:
        code = str(parse_code(argument))
    except InvalidCode:
        return expired_button(ctx)
    async with ctx.tx() as uow:
        stopped = await uow.subscriptions.unsubscribe(ctx.user.id, code)
        await uow.outbox.cancel_for_user(ctx.user.id, dossier_code=code, now=ctx.now)
    if not stopped:
        return expired_button(ctx)
    notice = ctx._("🔕 No more notices about dossier {code}.").format(code=code)
    return await _redrawn(ctx, code, notice)


async def _redrawn(ctx: Context, code: str, notice: str) -> Response:
    """`notice`, with the dossier's message redrawn (its buttons changed) where possible."""
    found = await fetch(ctx, code)
    if isinstance(found, str):
        return respond(ctx, notice=notice)
    return respond(ctx, await show_dossier(ctx, found, edit=True), notice=notice)
