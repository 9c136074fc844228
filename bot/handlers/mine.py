"""``/mine``: the dossiers a user has confirmed, with their status and notice settings."""

from __future__ import annotations

import asyncio

from bot import payloads
from bot.domain.dossier import Dossier
from bot.handlers import confirm
from bot.handlers.common import case_system_busy, respond, text
from bot.handlers.context import Context
from bot.handlers.render import render_short
from bot.messages import Button, Reply, Response
from bot.payloads import Action
from bot.ports import CaseApiError


async def _fetch_all(ctx: Context, codes: list[str]) -> list[Dossier | None]:
    async def one(code: str) -> Dossier | None:
        try:
            return await ctx.case_api.get_dossier(code)
        except CaseApiError:
            return None

    return list(await asyncio.gather(*(one(code) for code in codes)))


async def mine(ctx: Context, _argument: str) -> Response:
    """List the user's confirmed dossiers."""
    _ = ctx._
    async with ctx.tx() as uow:
        owned = await uow.owners.list_for_user(ctx.user.id)
    if not owned:
        return text(
            ctx,
            _(
                "You have not confirmed any dossier yet. Send a dossier code, then press "
                "“This is my dossier”."
            ),
        )
    shown = owned[: ctx.config.mine_list_limit]
    dossiers = await _fetch_all(ctx, [o.dossier_code for o in shown])
    lines = [_("Your dossiers:")]
    rows: list[tuple[Button, ...]] = []
    for item, dossier in zip(shown, dossiers, strict=True):
        if dossier is None:
            lines.append(f"• {item.dossier_code} — " + _("status unavailable right now"))
        else:
            lines.append("• " + render_short(dossier, now=ctx.now, texts=ctx.texts))
        if dossier is None or not dossier.status.is_final:  # a closed dossier sends nothing
            lines[-1] += " 🔔" if item.subscribed else " 🔕"
        rows.append(
            (Button(f"🔄 {item.dossier_code}", payloads.make(Action.LOOKUP, item.dossier_code)),)
        )
    if all(d is None for d in dossiers):
        lines.append("")
        lines.append(case_system_busy(ctx))
    if len(owned) > len(shown):
        lines.append(_("…and {count} more.").format(count=len(owned) - len(shown)))
    lines.append("")
    lines.append(_("🔔 = you get notices, 🔕 = notices off."))
    if any(o.subscribed for o in owned):
        rows.append(
            (Button(_("🔕 Stop all notices"), confirm.signed(ctx, Action.UNSUBSCRIBE_ALL)),)
        )
    return respond(ctx, Reply("\n".join(lines), buttons=tuple(rows)))


async def unsubscribe_all_button(ctx: Context, argument: str) -> Response:
    """The "stop all notices" button: with a fresh confirmation token of this user it stops
    them; otherwise (stale, forged, replayed) it asks first."""
    if confirm.confirmed(ctx, Action.UNSUBSCRIBE_ALL, argument) is not None:
        return await unsubscribe_all(ctx, "")
    _ = ctx._
    buttons = (
        Button(_("🔕 Yes, stop them"), confirm.signed(ctx, Action.UNSUBSCRIBE_ALL)),
        Button(_("Keep the notices"), payloads.make(Action.CANCEL)),
    )
    return respond(ctx, Reply(_("Stop the notices about all your dossiers?"), buttons=(buttons,)))


async def unsubscribe_all(ctx: Context, _argument: str) -> Response:
    """Stop every notice (``/stop``, typed by the citizen, or a confirmed button)."""
    async with ctx.tx() as uow:
        count = await uow.subscriptions.unsubscribe_all(ctx.user.id)
        await uow.outbox.cancel_for_user(ctx.user.id, now=ctx.now)
    return text(
        ctx,
        ctx.ngettext(
            "Done: notices stopped for {count} dossier. You can turn them on again from /mine.",
            "Done: notices stopped for {count} dossiers. You can turn them on again from /mine.",
            count,
        ).format(count=count),
    )
