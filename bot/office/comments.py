"""Citizens' written survey comments (``/office/comments``), newest first, digits masked."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.domain.office import CommentFilter, StaffAccount, mask_digits
from bot.office.auth import Office, scope_for, staff_page, visible_agency
from bot.office.render import language_of, render
from bot.office.satisfaction import period_choices
from surveys.elements import ELEMENTS, element_label
from surveys.periods import parse_period

PAGE_SIZE = 50


@staff_page()
async def comments_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Comments with their element scores, filtered by agency, procedure, period and words."""
    params = request.query_params
    agency = visible_agency(staff, params.get("agency") or None)
    period_text = params.get("period") or str(office.clock.now().astimezone(office.tz).year)
    try:
        period = parse_period(period_text)
    except ValueError:
        period = parse_period(str(office.clock.now().astimezone(office.tz).year))
    page = max(1, int(params.get("page", "1")) if params.get("page", "1").isdigit() else 1)
    query = CommentFilter(
        agencies=scope_for(staff, agency),
        first_month=period.first_month,
        last_month=period.last_month,
        procedure=(params.get("procedure") or "").strip()[:64] or None,
        search=(params.get("q") or "").strip()[:100] or None,
        low_scores_only=params.get("low") == "1",
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    async with office.read_factory() as uow:
        found = await uow.office.comments(query)
        agencies = await uow.office.agencies(staff.scope)
    language = language_of(request)
    shown = [{"comment": c, "text": mask_digits(c.text)} for c in found[:PAGE_SIZE]]
    return render(
        request,
        "comments.html",
        {
            "staff": staff,
            "comments": shown,
            "agencies": agencies,
            "agency": agency,
            "period": period,
            "periods": period_choices(office.clock.now(), office),
            "procedure": query.procedure or "",
            "search": query.search or "",
            "low": query.low_scores_only,
            "page": page,
            "more": len(found) > PAGE_SIZE,
            "elements": [(e, element_label(e, language)) for e in ELEMENTS],
        },
        tz=office.tz,
    )
