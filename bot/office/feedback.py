"""The feedback inbox (``/office/feedback``), one item's thread with the reply form, and what
the bot could not answer (``/office/unanswered``).

Feedback and complaints are stored by the conversation (``uow.feedback``). A manager's reply is
added to the thread and queued in the outbox as a ``feedback_reply`` notice in the same
transaction, so the dispatcher delivers it to the chat the citizen wrote from (Telegram; Zalo
only within 7 days of the citizen's last message: outside that window the page says the
citizen cannot be reached now, and the reply waits until they write again). Items without an
agency are seen by admins only.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.domain.office import StaffAccount
from bot.messages import Channel
from bot.notify.feedback_reply import FEEDBACK_REPLY, MAX_REPLY_CHARS
from bot.office.auth import Office, read_form, staff_page, visible_agency
from bot.office.render import render
from bot.ports import FeedbackItem, Notice, UnitOfWork

STATUSES = ("open", "answered", "closed")
ZALO_WINDOW = timedelta(days=7)
UNANSWERED_DAYS = 30


async def _items(
    uow: UnitOfWork, staff: StaffAccount, agency: str | None, status: str | None
) -> list[FeedbackItem]:
    if agency is not None:
        return await uow.feedback.list_feedback(agency_code=agency, status=status, limit=200)
    if staff.scope is None:
        return await uow.feedback.list_feedback(status=status, limit=200)
    found: list[FeedbackItem] = []
    for code in staff.scope:
        found += await uow.feedback.list_feedback(agency_code=code, status=status, limit=200)
    return sorted(found, key=lambda i: (i.created_at, i.id), reverse=True)[:200]


@staff_page()
async def feedback_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Feedback and complaints of the official's agencies, newest first, with days open."""
    params = request.query_params
    agency = visible_agency(staff, params.get("agency") or None)
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise HTTPException(404)
    now = office.clock.now()
    async with office.read_factory() as uow:
        items = await _items(uow, staff, agency, status)
        agencies = await uow.office.agencies(staff.scope)
    names = {a.code: a.name for a in agencies}
    return render(
        request,
        "feedback.html",
        {
            "staff": staff,
            "items": [{"item": i, "days": (now - i.created_at).days} for i in items],
            "agencies": agencies,
            "agency": agency,
            "status": status or "",
            "names": names,
        },
        tz=office.tz,
    )


async def _visible_item(uow: UnitOfWork, staff: StaffAccount, feedback_id: int) -> FeedbackItem:
    item = await uow.feedback.get(feedback_id)
    if item is None or not staff.sees(item.agency_code):
        raise HTTPException(404)
    return item


def _reach(item: FeedbackItem, last_citizen: datetime | None, now: datetime) -> str:
    """Whether a reply can reach the citizen now: "ok", "erased", "zalo_window" or "channel"."""
    if item.user_id is None:
        return "erased"
    if item.channel == Channel.TELEGRAM:
        return "ok"
    if item.channel == Channel.ZALO:
        if last_citizen is not None and now - last_citizen <= ZALO_WINDOW:
            return "ok"
        return "zalo_window"
    return "channel"


@staff_page()
async def feedback_item_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """One item: the thread (both sides), its status, and the reply form for managers."""
    feedback_id = int(request.path_params["feedback_id"])
    now = office.clock.now()
    async with office.read_factory() as uow:
        item = await _visible_item(uow, staff, feedback_id)
        thread = await uow.feedback.thread(feedback_id)
        agencies = await uow.office.agencies([item.agency_code] if item.agency_code else [])
    citizen = [m.created_at for m in thread if m.author == "citizen"]
    return render(
        request,
        "feedback_item.html",
        {
            "staff": staff,
            "item": item,
            "thread": thread,
            "agency_name": agencies[0].name if agencies else "",
            "reach": _reach(item, max(citizen, default=None), now),
            "days": (now - item.created_at).days,
            "statuses": STATUSES,
            "max_chars": MAX_REPLY_CHARS,
            "sent": request.query_params.get("sent") == "1",
        },
        tz=office.tz,
    )


@staff_page(roles=("manager", "admin"))
async def feedback_reply(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Add the official's reply to the thread and queue it for the citizen's chat."""
    feedback_id = int(request.path_params["feedback_id"])
    form = await read_form(request)
    text = str(form.get("text") or "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise HTTPException(400)
    now = office.clock.now()
    async with office.uow_factory() as uow:
        item = await _visible_item(uow, staff, feedback_id)
        if item.user_id is None:
            raise HTTPException(409)
        agencies = await uow.office.agencies([item.agency_code] if item.agency_code else [])
        message_id = await uow.feedback.add_message(
            feedback_id, author="staff", text=text, now=now, staff_username=staff.username
        )
        await uow.outbox.enqueue(
            Notice(
                user_id=item.user_id,
                kind=FEEDBACK_REPLY,
                dedup_key=f"{FEEDBACK_REPLY}:{message_id}",
                params={
                    "text": text,
                    "agency": agencies[0].name if agencies else "",
                    "item": feedback_id,
                },
            ),
            now=now,
        )
        await uow.staff.audit(
            staff.username, "feedback.reply", f"feedback:{feedback_id}", now=now,
            detail=f"message {message_id}",
        )  # fmt: skip
        await uow.commit()
    return RedirectResponse(f"/office/feedback/{feedback_id}?sent=1", status_code=303)


@staff_page(roles=("manager", "admin"))
async def feedback_status(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Move an item to open, answered or closed (audited)."""
    feedback_id = int(request.path_params["feedback_id"])
    form = await read_form(request)
    status = str(form.get("status") or "")
    if status not in STATUSES:
        raise HTTPException(400)
    now = office.clock.now()
    async with office.uow_factory() as uow:
        await _visible_item(uow, staff, feedback_id)
        await uow.feedback.set_status(feedback_id, status, now=now)
        await uow.staff.audit(
            staff.username, "feedback.status", f"feedback:{feedback_id}", now=now, detail=status
        )
        await uow.commit()
    return RedirectResponse(f"/office/feedback/{feedback_id}", status_code=303)


_SPACES = re.compile(r"\s+")


@staff_page()
async def unanswered_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """The most frequent messages of the last 30 days the bot could not answer, grouped."""
    agency = visible_agency(staff, request.query_params.get("agency") or None)
    since = office.clock.now() - timedelta(days=UNANSWERED_DAYS)
    async with office.read_factory() as uow:
        scopes: list[str | None] = (
            [agency] if agency else list(staff.scope) if staff.scope is not None else [None]
        )
        messages = []
        for code in scopes:
            messages += await uow.feedback.list_unanswered(
                agency_code=code, since=since, limit=5000
            )
        agencies = await uow.office.agencies(staff.scope)
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for message in messages:
        key = _SPACES.sub(" ", message.text.strip().casefold())
        counts[key] += 1
        shown.setdefault(key, message.text.strip())
    groups = [(shown[key], n) for key, n in counts.most_common(50)]
    return render(
        request,
        "unanswered.html",
        {"staff": staff, "groups": groups, "total": len(messages), "agencies": agencies,
         "agency": agency, "days": UNANSWERED_DAYS},
        tz=office.tz,
    )  # fmt: skip
