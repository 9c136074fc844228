"""Questions about the office and a dossier's practical side: collecting, paying, contacting.

Each answer is about the dossier we are talking about (`bot.handlers.topic`) when there is
one; its details (pickup place and hours, fee) only for its verified owner (design §6) —
anyone else is offered the way to confirm it. Without a dossier in context the answer is the
office's general one, from the settings.
"""

from __future__ import annotations

from bot import payloads, wording
from bot.domain.dossier import Dossier
from bot.domain.status import Status
from bot.handlers import topic
from bot.handlers.common import code_shape_help, respond, text
from bot.handlers.context import Context
from bot.handlers.lookup import fetch_in_context
from bot.handlers.render import due_line
from bot.i18n import format_money
from bot.messages import Button, Reply, Response
from bot.payloads import Action


async def _dossier_in_context(ctx: Context) -> tuple[Dossier | str | None, bool]:
    """The dossier in context (or the message to show instead) and whether the user owns it."""
    code = await topic.dossier_in_context(ctx)
    if code is None:
        return None, False
    return await fetch_in_context(ctx, code)


def _confirm_first(ctx: Context, dossier: Dossier, general: str) -> Response:
    """The general answer, and the button to confirm the dossier to see its own details."""
    _ = ctx._
    note = _("To see the details of dossier {code}, first confirm that it is yours.").format(
        code=dossier.code
    )
    return respond(
        ctx,
        Reply(
            general + "\n\n" + note,
            buttons=(
                (Button(_("🔐 This is my dossier"), payloads.make(Action.VERIFY, dossier.code)),),
            ),
        ),
    )


def what_to_bring(ctx: Context) -> str:
    """What a citizen brings to collect a result (the wording of `bot.wording`)."""
    return wording.bring_to_pickup(ctx._) + "\n" + wording.proxy_pickup(ctx._)


def office_place(ctx: Context) -> str:
    """Where and when the office receives citizens, from the settings, or where to find it."""
    _ = ctx._
    config = ctx.config
    lines = []
    if config.office_address:
        name = config.office_name
        lines.append(_("{office}: {address}").format(office=name, address=config.office_address))
    else:
        lines.append(
            _(
                "Results are handed over at the one-stop-shop office (bộ phận một cửa) where "
                "you submitted the dossier; its address is on your receipt."
            )
        )
    if config.office_hours:
        lines.append(_("Opening hours: {hours}").format(hours=config.office_hours))
    return "\n".join(lines)


async def pickup(ctx: Context) -> Response:
    """Where / when to collect, what to bring."""
    _ = ctx._
    general = office_place(ctx) + "\n\n" + what_to_bring(ctx)
    dossier, owner = await _dossier_in_context(ctx)
    if isinstance(dossier, str):
        return text(ctx, dossier + "\n\n" + general)
    if dossier is None:
        return text(ctx, general)
    if not owner:
        return _confirm_first(ctx, dossier, general)
    lines = []
    if dossier.delivery == "post":
        lines.append(_("Dossier {code}:").format(code=dossier.code))
        lines.append(wording.by_post(_))
    elif dossier.pickup is not None:
        lines.append(_("Dossier {code}:").format(code=dossier.code))
        lines.append(_("Pickup place: {place}").format(place=dossier.pickup.place))
        lines.append(_("Opening hours: {hours}").format(hours=dossier.pickup.hours))
    else:
        lines.append(office_place(ctx))
    if dossier.status is Status.RETURNED:
        lines.append(_("The result of this dossier has already been handed over."))
    elif dossier.status.is_final:
        lines.append(_("This dossier has no result to collect."))
    elif dossier.status is not Status.READY:
        lines.append(_("The result is not ready yet."))
        due = due_line(dossier, ctx.now, ctx.texts)
        if due:
            lines.append(due)
    if dossier.delivery != "post" and dossier.status is not Status.RETURNED:
        lines.append("")
        lines.append(what_to_bring(ctx))
    return text(ctx, "\n".join(lines))


def how_to_pay(ctx: Context) -> str:
    """How fees are paid (the wording of `bot.wording`)."""
    return wording.payment_how(ctx.config.office_name, ctx._)


async def fee(ctx: Context) -> Response:
    """How much to pay / how to pay."""
    _ = ctx._
    general = (
        _("The fee depends on the procedure. Send me your dossier code to see yours.")
        + "\n"
        + code_shape_help(ctx)
        + "\n\n"
        + how_to_pay(ctx)
    )
    dossier, owner = await _dossier_in_context(ctx)
    if isinstance(dossier, str):
        return text(ctx, dossier)
    if dossier is None:
        return text(ctx, general)
    if not owner:
        return _confirm_first(ctx, dossier, how_to_pay(ctx))
    if dossier.fee is None or dossier.fee.amount == 0:
        line = _("No fee is recorded for dossier {code}.").format(code=dossier.code)
    else:
        line = _("Fee for dossier {code}: {amount} VND.").format(
            code=dossier.code, amount=format_money(dossier.fee.amount, ctx.language)
        )
    if dossier.status is Status.PAYMENT_REQUIRED:
        line += "\n" + _("The office is waiting for this payment before it continues.")
    return text(ctx, line + "\n\n" + how_to_pay(ctx))


def office_contact(ctx: Context) -> str:
    """The office's phone and address from the settings, or where to find them."""
    _ = ctx._
    config = ctx.config
    lines = []
    name = config.office_name
    if config.office_phone:
        lines.append(_("{office} — phone: {phone}").format(office=name, phone=config.office_phone))
    if config.office_address:
        lines.append(_("Address: {address}").format(address=config.office_address))
    if config.office_hours:
        lines.append(_("Opening hours: {hours}").format(hours=config.office_hours))
    if not lines:
        lines.append(
            _(
                "The phone number and address of the office that received your dossier are "
                "printed on your receipt."
            )
        )
    return "\n".join(lines)


async def contact(ctx: Context) -> Response:
    """How to reach the office (the agency of the dossier in context, if any)."""
    _ = ctx._
    dossier, owner = await _dossier_in_context(ctx)
    lines = []
    if isinstance(dossier, Dossier):
        lines.append(
            _("Dossier {code} is handled by {agency}.").format(
                code=dossier.code, agency=dossier.agency.name
            )
        )
        if owner and dossier.pickup is not None:
            lines.append(_("Pickup place: {place}").format(place=dossier.pickup.place))
    lines.append(office_contact(ctx))
    lines.append(_("You can also write your question or feedback here; the office reads them."))
    return text(ctx, "\n".join(lines))
