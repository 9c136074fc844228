"""How a dossier reads to a citizen: status in plain words, dates, days left, owner details.

Anyone with the code sees the status, procedure, agency, appointment date and whether it is
late (with the agency's apology); only the verified owner sees the applicant's name, the
reason or what to add, the amount to pay and where to collect the result (design §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import wording
from bot.domain.brief import for_chat
from bot.domain.dossier import Dossier
from bot.domain.status import Status
from bot.i18n import Gettext, format_date, format_money, gettext_for, ngettext_for
from bot.wording import DEFAULT_OFFICE_NAME, Ngettext, status_label

__all__ = [
    "STATUS_ICONS",
    "CardTexts",
    "due_line",
    "render_dossier",
    "render_short",
    "status_label",
]

STATUS_ICONS: dict[Status, str] = {
    Status.SUBMITTED: "📝",
    Status.RECEIVED: "📥",
    Status.NOT_ACCEPTED: "⛔",
    Status.PROCESSING: "⏳",
    Status.SUPPLEMENT_REQUIRED: "📎",
    Status.PAYMENT_REQUIRED: "💳",
    Status.WITHDRAWN: "↩️",
    Status.STOPPED: "⛔",
    Status.READY: "✅",
    Status.RETURNED: "🎉",
}


@dataclass(frozen=True, slots=True)
class CardTexts:
    """The language of a card, and the office's name as citizens know it."""

    language: str
    tz: ZoneInfo
    office: str = DEFAULT_OFFICE_NAME

    @property
    def _(self) -> Gettext:
        """The gettext of `language`."""
        return gettext_for(self.language)

    @property
    def ngettext(self) -> Ngettext:
        """The plural-aware gettext of `language`."""
        return ngettext_for(self.language)


def days_between(later: datetime, earlier: datetime, tz: ZoneInfo) -> int:
    """Calendar days from `earlier` to `later` in local time (negative when later is before)."""
    return (later.astimezone(tz).date() - earlier.astimezone(tz).date()).days


def due_line(dossier: Dossier, now: datetime, texts: CardTexts) -> str | None:
    """The appointment date with days left or days overdue, or None without a date.

    No countdown while the office waits for the citizen (a supplement or a payment): the
    processing time does not run then.
    """
    _, tz = texts._, texts.tz
    if dossier.status is Status.SUPPLEMENT_REQUIRED:
        return wording.clock_stopped_supplement(_)
    if dossier.due_at is None:
        return None
    date = format_date(dossier.due_at, tz)
    if dossier.status.has_result or dossier.status.is_final:
        return _("Appointment date: {date}").format(date=date)
    if dossier.status is Status.PAYMENT_REQUIRED:
        return wording.clock_stopped_payment(date, _)
    if dossier.is_overdue(now):
        late = max(days_between(now, dossier.due_at, tz), 1)
        return _("Appointment date: {date} (overdue by {days})").format(
            date=date, days=wording.days_text(late, texts.ngettext)
        )
    days = days_between(dossier.due_at, now, tz)
    if days == 0:
        return _("Appointment date: {date} (today)").format(date=date)
    return _("Appointment date: {date} ({days} left)").format(
        date=date, days=wording.days_text(days, texts.ngettext)
    )


def _late_lines(dossier: Dossier, now: datetime, texts: CardTexts, *, owner: bool) -> list[str]:
    """The apology, new date, reason and rights of a late or extended dossier."""
    _, tz = texts._, texts.tz
    if not dossier.status.can_be_overdue:
        return []
    agency = dossier.agency.name
    lines: list[str] = []
    office = wording.office_of(texts.office, agency)
    if dossier.is_overdue(now):  # late, and no (newer) date known: say so, and who to ask
        lines.append(wording.apology_without_new_date(agency, _))
        if owner and dossier.is_extended and dossier.note:
            lines.append(wording.reason_for_delay(dossier.note, _))
        lines.append(wording.contact_office(office, _))
    elif dossier.is_extended and dossier.due_at is not None:
        previous = format_date(dossier.original_due_at, tz) if dossier.original_due_at else None
        lines.append(
            wording.apology_with_new_date(agency, format_date(dossier.due_at, tz), previous, _)
        )
        if owner and dossier.note:
            lines.append(wording.reason_for_delay(dossier.note, _))
    else:
        return []
    lines.append(wording.late_rights(_))
    return lines


def _status_lines(dossier: Dossier, texts: CardTexts, *, owner: bool) -> list[str]:
    """What the status means for the citizen and what to do, owner details included."""
    _ = texts._
    office = wording.office_of(texts.office, dossier.agency.name)
    status = dossier.status
    if status is Status.SUPPLEMENT_REQUIRED:
        lines = [_("The office needs you to add to your dossier before it can continue.")]
        if owner:
            lines.append(wording.supplement_reason(dossier.note, office, _))
            lines.append(wording.supplement_how(office, _))
        lines.append(wording.supplement_rules(_))
        return lines
    if status is Status.PAYMENT_REQUIRED:
        lines = [wording.payment_what(_)]
        if owner:
            if dossier.fee is not None and dossier.fee.amount > 0:
                amount = format_money(dossier.fee.amount, texts.language)
                lines.append(_("Amount to pay: {amount} VND").format(amount=amount))
            if dossier.note:
                lines.append(_("Details: {note}").format(note=dossier.note))
            lines.append(wording.payment_how(office, _))
        return lines
    if status is Status.READY:
        if not owner:  # how and where it is handed over are pickup details (design §6)
            return []
        if dossier.delivery == "post":
            return [wording.by_post(_)]
        lines = [_("The result is ready; you may come to collect it.")]
        if dossier.pickup is not None:
            lines.append(_("Pickup place: {place}").format(place=dossier.pickup.place))
            lines.append(_("Opening hours: {hours}").format(hours=dossier.pickup.hours))
        else:
            lines.append(_("Pickup place: {place}").format(place=office))
        lines.append(wording.bring_to_pickup(_))
        lines.append(wording.proxy_pickup(_))
        return lines
    if status is Status.RETURNED:
        return [_("The result has been handed over.")]
    if status in (Status.NOT_ACCEPTED, Status.STOPPED) and owner and dossier.note:
        return [_("Reason: {reason}").format(reason=dossier.note)]
    return []


def _owner_footer(dossier: Dossier, texts: CardTexts) -> list[str]:
    _ = texts._
    lines = [_("Applicant: {name}").format(name=dossier.applicant.name)]
    if dossier.delivery == "post" and dossier.status is not Status.READY:
        lines.append(wording.delivery_by_post(_))
    return lines


def _stranger_footer(dossier: Dossier, _: Gettext) -> str:
    if dossier.status.is_final or dossier.status.has_result:
        return _("🔒 To see the details, confirm that this dossier is yours.")
    return _(
        "🔒 To see the details and get a message when the dossier changes, confirm that it "
        "is yours."
    )


def render_dossier(dossier: Dossier, *, owner: bool, now: datetime, texts: CardTexts) -> str:
    """The full lookup answer. Details only for the verified owner (design §6)."""
    dossier = for_chat(dossier)  # long texts cut: one lookup stays one message
    _ = texts._
    icon = STATUS_ICONS[dossier.status]
    lines = [
        _("Dossier {code}").format(code=dossier.code),
        _("Procedure: {name}").format(name=dossier.procedure.name),
        _("Agency: {name}").format(name=dossier.agency.name),
        f"{icon} " + _("Status: {status}").format(status=status_label(dossier.status, _)),
    ]
    due = due_line(dossier, now, texts)
    if due:
        lines.append(due)
    late = _late_lines(dossier, now, texts, owner=owner)
    status = _status_lines(dossier, texts, owner=owner)
    if late or status:
        lines.append("")
        lines += late + status
    lines.append("")
    if owner:
        lines += _owner_footer(dossier, texts)
    else:
        lines.append(_stranger_footer(dossier, _))
    return "\n".join(lines)


def render_short(dossier: Dossier, *, now: datetime, texts: CardTexts) -> str:
    """One or two lines for the "my dossiers" list."""
    dossier = for_chat(dossier)
    head = f"{STATUS_ICONS[dossier.status]} {dossier.code} — {dossier.procedure.name}"
    parts = [status_label(dossier.status, texts._)]
    # No countdown while the clock is stopped; the full card explains why.
    due = None if dossier.status.clock_stopped else due_line(dossier, now, texts)
    if due:
        parts.append(due)
    return head + "\n   " + " · ".join(parts)
