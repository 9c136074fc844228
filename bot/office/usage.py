"""Usage (``/office/usage``): lookups per day, verified citizens, followed dossiers, surveys
sent and answered (response rate), per agency, over the last 7, 30 or 90 days."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.domain.office import StaffAccount
from bot.i18n import gettext_for
from bot.office import charts
from bot.office.auth import Office, scope_for, staff_page, visible_agency
from bot.office.render import language_of, render

SPANS = (7, 30, 90)


def day_number(day: date) -> int:
    """A date as YYYYMMDD."""
    return day.year * 10000 + day.month * 100 + day.day


@staff_page()
async def usage_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """How citizens use the bot, per agency."""
    params = request.query_params
    agency = visible_agency(staff, params.get("agency") or None)
    days = int(params["days"]) if params.get("days", "").isdigit() else 30
    days = days if days in SPANS else 30
    today = office.clock.now().astimezone(office.tz).date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    scope = scope_for(staff, agency)
    async with office.read_factory() as uow:
        report = await uow.office.usage(
            first_day=day_number(dates[0]),
            last_day=day_number(dates[-1]),
            agencies=scope,
            tz=office.tz,
        )
        agencies = await uow.office.agencies(staff.scope)
    names = {a.code: a.name for a in agencies}
    per_day = [
        (f"{d.day:02d}/{d.month:02d}", report.lookups_per_day.get(day_number(d), 0)) for d in dates
    ]
    _ = gettext_for(language_of(request))
    chart = charts.columns(
        per_day,
        title=_("Lookups per day"),
        desc=_("Dossier lookups in the chat, per local day, over the chosen span."),
        every=max(1, days // 8),
    )
    return render(
        request,
        "usage.html",
        {
            "staff": staff,
            "report": report,
            "names": names,
            "agencies": agencies,
            "agency": agency,
            "days": days,
            "spans": SPANS,
            "chart": chart,
            "total_lookups": sum(v for _l, v in per_day),
        },
        tz=office.tz,
    )
