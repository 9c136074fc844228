"""Proving a dossier is yours: receipt PIN, shared phone number, or the receipt's deep link."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import deeplink, payloads
from bot.domain.codes import InvalidCode, parse_code
from bot.handlers import confirm
from bot.handlers.common import (
    case_system_busy,
    code_shape_help,
    expired_button,
    respond,
    text,
)
from bot.handlers.context import Context
from bot.handlers.limits import (
    lookup_buckets,
    minutes_text,
    phone_account_bucket,
    pin_account_bucket,
    pin_dossier_bucket,
)
from bot.handlers.lookup import fetch, show_dossier
from bot.handlers.topic import AWAITING_PROOF, back_to_talking, code_of
from bot.messages import Button, Reply, Response
from bot.payloads import Action
from bot.ports import Bucket, CaseApiUnavailable, DossierNotFound, Reservation
from bot.wording import minutes_phrase

log = logging.getLogger(__name__)


def _pin_buckets(ctx: Context, code: str) -> list[Bucket]:
    return [pin_dossier_bucket(ctx, code), pin_account_bucket(ctx)]


def _counter_help(ctx: Context) -> str:
    return ctx._(
        "If that does not work, please come to the one-stop-shop counter with your receipt "
        "and your ID card (thẻ căn cước): the staff will help you."
    )


def _proof_buttons(ctx: Context) -> tuple[tuple[Button, ...], ...]:
    _ = ctx._
    return (
        (Button(_("📱 Share my phone number"), payloads.make(Action.CONTACT)),),
        (Button(_("✖ Cancel"), payloads.make(Action.CANCEL)),),
    )


def _pins_paused(ctx: Context, code: str, wait: float, *, before: str = "") -> Response:
    """PINs for this dossier are paused (strangers may have guessed): the other ways in."""
    message = before + ctx._(
        "For your safety, PIN entry for dossier {code} is paused for {wait}. "
        "You can still confirm it now by sharing the phone number you gave when you applied, "
        "or by scanning the QR code on your receipt."
    ).format(code=code, wait=minutes_phrase(minutes_text(wait), ctx.ngettext))
    text_ = "\n\n".join([message + "\n" + _counter_help(ctx), phone_use(ctx)])
    reply = Reply(text_, buttons=_proof_buttons(ctx), request_phone=True)
    return respond(ctx, reply)


def _account_paused(ctx: Context, wait: float, *, before: str = "") -> Response:
    """This chat account made too many failed proofs."""
    message = before + ctx._(
        "You have made many attempts to confirm a dossier. Please try again in {wait}."
    ).format(wait=minutes_phrase(minutes_text(wait), ctx.ngettext))
    return text(ctx, message + "\n" + _counter_help(ctx))


async def start_verification(ctx: Context, argument: str) -> Response:
    """The "this is my dossier" button: ask for the receipt PIN or the phone number."""
    _ = ctx._
    try:
        code = str(parse_code(argument))
    except InvalidCode:
        return expired_button(ctx)
    pins_wait: float | None = None
    async with ctx.tx() as uow:
        owner = await uow.owners.is_owner(ctx.user.id, code)
        if not owner:
            pins_wait = await uow.rate_limits.retry_after(
                [pin_dossier_bucket(ctx, code)], now=ctx.now
            )
            # Pending even while PINs are paused: the phone number still proves ownership.
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
    if pins_wait is not None:
        return _pins_paused(ctx, code, pins_wait)
    prompt = "\n\n".join(
        [
            _(
                "To confirm dossier {code} is yours, type the PIN printed on your receipt, "
                "or share the phone number you gave when you applied."
            ).format(code=code),
            phone_use(ctx),
        ]
    )
    return respond(ctx, share_phone_reply(ctx, prompt))


def share_phone_reply(ctx: Context, prompt: str) -> Reply:
    """`prompt` with the one-tap "share my phone number" and a cancel button."""
    return Reply(prompt, buttons=_proof_buttons(ctx), request_phone=True)


def phone_use(ctx: Context) -> str:
    """Why the phone number is asked, what is kept and for how long (Decree 13/2023/NĐ-CP)."""
    return ctx._(
        "🔐 Your phone number is only compared with the one on your dossier. If they match, it "
        "is kept with this dossier so that, on Zalo, notices can reach you as template messages "
        "when the chat has been quiet; it is erased when you send /forget. The PIN is never "
        "kept. /privacy tells more."
    )


async def pending_code(ctx: Context) -> tuple[str | None, bool]:
    """The dossier we are talking about (being proved, or just looked up), and whether the
    user already owns it."""
    async with ctx.tx() as uow:
        code = code_of(await uow.conversations.get(ctx.user.id, now=ctx.now))
        owner = code is not None and await uow.owners.is_owner(ctx.user.id, code)
    return code, owner


async def _confirmed(
    ctx: Context,
    code: str,
    method: str,
    *,
    phone: str | None = None,
    reservation: Reservation | None = None,
) -> Response:
    """Record the proven ownership; the attempt it took is given back in the same transaction."""
    async with ctx.tx() as uow:
        if reservation is not None:
            await uow.rate_limits.give_back(reservation)
        await uow.owners.add(ctx.user.id, code, method=method, now=ctx.now, phone=phone)
        await uow.subscriptions.subscribe(ctx.user.id, code, now=ctx.now)
        await back_to_talking(uow, ctx, code)
    log.info("user %s verified dossier %s by %s", ctx.user.id, code, method)
    intro = ctx._("✅ Confirmed: this dossier is yours.")
    found = await fetch(ctx, code)
    if isinstance(found, str):
        return text(ctx, intro + "\n\n" + found)
    return respond(ctx, await show_dossier(ctx, found, intro=intro))


def _refused(ctx: Context, code: str, reservation: Reservation) -> Response:
    wait = reservation.retry_after_seconds
    if reservation.refused_key == pin_dossier_bucket(ctx, code).key:
        return _pins_paused(ctx, code, wait)
    return _account_paused(ctx, wait)


async def _check(ctx: Context, code: str, *, pin: str | None, phone: str | None) -> Response:
    """One proof attempt: reserved before the case API is asked, given back if it succeeds.

    PINs count per dossier and per account; phone numbers per account only, so strangers'
    wrong PINs never block the owner's phone number."""
    _ = ctx._
    buckets = _pin_buckets(ctx, code) if pin is not None else [phone_account_bucket(ctx)]
    async with ctx.tx() as uow:
        reservation = await uow.rate_limits.reserve(buckets, now=ctx.now)
    if not reservation.granted:
        log.info("proof attempt for dossier %s by user %s refused by a limit", code, ctx.user.id)
        return _refused(ctx, code, reservation)
    try:
        verified = await ctx.case_api.verify(code, pin=pin, phone=phone)
    except DossierNotFound:
        async with ctx.tx() as uow:
            await uow.conversations.clear(ctx.user.id)
        return text(ctx, _("No dossier with code {code} was found.").format(code=code))
    except CaseApiUnavailable:
        return text(ctx, case_system_busy(ctx))
    if verified:
        method = "pin" if pin is not None else "phone"
        return await _confirmed(ctx, code, method, phone=phone, reservation=reservation)
    log.info("failed ownership proof for dossier %s by user %s", code, ctx.user.id)
    async with ctx.tx() as uow:
        wait = await uow.rate_limits.retry_after(buckets[:1], now=ctx.now)
    if wait is not None and pin is not None:
        mismatch = _("That PIN does not match dossier {code}.").format(code=code)
        return _pins_paused(ctx, code, wait, before=mismatch + "\n")
    if wait is not None:
        mismatch = _("This phone number is not the one registered for dossier {code}.")
        return _account_paused(ctx, wait, before=mismatch.format(code=code) + "\n")
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


async def pin_entered(ctx: Context, pin: str) -> Response:
    """A PIN typed (spaces, dots and dashes already taken out): it proves the dossier we are
    talking about — the one being confirmed, or the one just looked up — without the button."""
    code, owner = await pending_code(ctx)
    if code is None:
        return text(
            ctx,
            ctx._(
                "If this is the PIN from your receipt: please first send the dossier code, "
                "then type the PIN."
            )
            + "\n"
            + code_shape_help(ctx),
        )
    if owner:
        return text(ctx, _already_yours(ctx, code))
    return await _check(ctx, code, pin=pin, phone=None)


async def phone_shared(ctx: Context, phone: str) -> Response:
    """The platform shared the user's own phone number."""
    code, owner = await pending_code(ctx)
    if code is None:
        return text(
            ctx,
            ctx._(
                "Thank you. Please first send the dossier code, then press “This is my dossier”."
            ),
        )
    if owner:
        return text(ctx, _already_yours(ctx, code))
    return await _check(ctx, code, pin=None, phone=phone)


async def phone_typed(ctx: Context) -> Response:
    """A phone number typed as text: never proof, since anyone can type anyone's number."""
    _ = ctx._
    code, owner = await pending_code(ctx)
    why = _(
        "For your safety, a typed phone number cannot confirm a dossier: anyone could type "
        "someone else's number."
    )
    if code is None:
        return text(
            ctx,
            why + " " + _("Please first send the dossier code; then I will ask for proof."),
        )
    if owner:
        return text(ctx, _already_yours(ctx, code))
    prompt = (
        why
        + "\n"
        + _(
            "Press “Share my phone number” so the app itself confirms the number is yours, "
            "or type the PIN printed on your receipt for dossier {code}."
        ).format(code=code)
    )
    return respond(ctx, share_phone_reply(ctx, prompt + "\n\n" + phone_use(ctx)))


def _already_yours(ctx: Context, code: str) -> str:
    return ctx._("Dossier {code} is already confirmed as yours.").format(code=code)


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
    except InvalidCode:
        return text(ctx, _("This link is not valid. Please type the dossier code instead."))
    # A signed link needs no PIN, so strangers' wrong PINs never block it; it still counts
    # as a lookup of the account.
    async with ctx.tx() as uow:
        reservation = await uow.rate_limits.reserve(lookup_buckets(ctx), now=ctx.now)
    if not reservation.granted:
        return text(
            ctx,
            _("Too many lookups. Please try again in {wait}.").format(
                wait=minutes_phrase(minutes_text(reservation.retry_after_seconds), ctx.ngettext)
            ),
        )
    try:
        await ctx.case_api.get_dossier(code)
    except DossierNotFound:
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
    """The "stop notices" button for one dossier: stops them with a fresh confirmation token
    of this user; otherwise (a pushed notice's button, a stale or forged one) asks first."""
    confirmed = confirm.confirmed(ctx, Action.UNSUBSCRIBE, argument)
    try:
        code = str(parse_code(confirmed or confirm.unsigned_argument(argument)))
    except InvalidCode:
        return expired_button(ctx)
    if confirmed is None:
        return await _ask_to_stop(ctx, code)
    async with ctx.tx() as uow:
        stopped = await uow.subscriptions.unsubscribe(ctx.user.id, code)
        await uow.outbox.cancel_for_user(ctx.user.id, dossier_code=code, now=ctx.now)
    if not stopped:
        return expired_button(ctx)
    notice = ctx._("🔕 No more notices about dossier {code}.").format(code=code)
    return await _redrawn(ctx, code, notice)


async def _ask_to_stop(ctx: Context, code: str) -> Response:
    _ = ctx._
    async with ctx.tx() as uow:
        subscribed = await uow.subscriptions.is_subscribed(ctx.user.id, code)
    if not subscribed:
        return expired_button(ctx)
    question = _("Stop the notices about dossier {code}?").format(code=code)
    buttons = (
        Button(_("🔕 Yes, stop them"), confirm.signed(ctx, Action.UNSUBSCRIBE, code)),
        Button(_("Keep the notices"), payloads.make(Action.CANCEL)),
    )
    return respond(ctx, Reply(question, buttons=(buttons,)))


async def _redrawn(ctx: Context, code: str, notice: str) -> Response:
    """`notice`, with the dossier's message redrawn (its buttons changed) where possible."""
    found = await fetch(ctx, code)
    if isinstance(found, str):
        return respond(ctx, notice=notice)
    return respond(ctx, await show_dossier(ctx, found, edit=True), notice=notice)
