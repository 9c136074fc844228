"""Delivery health (``/office/delivery``, managers and admins): the outbox by state and
channel, the oldest push waiting, the last failures, and "retry" for dead pushes — the same
operation as ``motcua outbox --requeue-dead``, limited to the official's agencies, audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.domain.office import StaffAccount
from bot.notify.cli import SHOWN_STATES
from bot.office.auth import Office, read_form, staff_page
from bot.office.render import render


@staff_page(roles=("manager", "admin"))
async def delivery_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """The outbox as an operator reads it."""
    now = office.clock.now()
    async with office.read_factory() as uow:
        summary = await uow.office.delivery(agencies=staff.scope, now=now)
    oldest_age = None
    if summary.oldest_queued_at is not None:
        oldest_age = int((now - summary.oldest_queued_at).total_seconds())
    return render(
        request,
        "delivery.html",
        {
            "staff": staff,
            "summary": summary,
            "states": SHOWN_STATES,
            "oldest_age": oldest_age,
            "requeued": request.query_params.get("requeued"),
        },
        tz=office.tz,
    )


@staff_page(roles=("manager", "admin"))
async def retry_dead(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Put the official's dead pushes back in the queue, and write it in the audit trail."""
    await read_form(request)
    now = office.clock.now()
    async with office.uow_factory() as uow:
        requeued = await uow.outbox.requeue_dead(now=now, agencies=staff.scope)
        scope = "all" if staff.scope is None else ",".join(staff.scope)
        await uow.staff.audit(
            staff.username, "outbox.requeue_dead", scope, now=now, detail=f"{requeued} pushes"
        )
        await uow.commit()
    return RedirectResponse(f"/office/delivery?requeued={requeued}", status_code=303)
