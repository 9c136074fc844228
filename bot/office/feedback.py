"""The feedback inbox (``/office/feedback``) and what the bot could not answer
(``/office/unanswered``).

Feedback and complaints sent in the chat, and the messages the bot did not understand, are
stored by the conversation slice (issue 14), which has not reached this branch yet. Until it
does, the inbox shows what the issue allows: the survey's written comments of citizens who
scored the handling of feedback 3 or lower. Those are anonymous (design §6: survey answers are
not linked to the chat user), so they cannot be answered in the chat; the page says so.
"""

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
async def feedback_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Survey comments of citizens unhappy with how feedback is handled, newest first."""
    params = request.query_params
    agency = visible_agency(staff, params.get("agency") or None)
    now = office.clock.now()
    try:
        period = parse_period(params.get("period") or str(now.astimezone(office.tz).year))
    except ValueError:
        period = parse_period(str(now.astimezone(office.tz).year))
    query = CommentFilter(
        agencies=scope_for(staff, agency),
        first_month=period.first_month,
        last_month=period.last_month,
        feedback_unhappy_only=True,
        limit=PAGE_SIZE,
    )
    async with office.read_factory() as uow:
        found = await uow.office.comments(query)
        agencies = await uow.office.agencies(staff.scope)
    language = language_of(request)
    items = [{"comment": c, "text": mask_digits(c.text)} for c in found]
    return render(
        request,
        "feedback.html",
        {
            "staff": staff,
            "items": items,
            "agencies": agencies,
            "agency": agency,
            "period": period,
            "periods": period_choices(now, office),
            "elements": [(e, element_label(e, language)) for e in ELEMENTS],
        },
        tz=office.tz,
    )


@staff_page()
async def unanswered_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """What the bot could not answer: not stored yet on this version (see the module)."""
    return render(request, "unanswered.html", {"staff": staff}, tz=office.tz)
