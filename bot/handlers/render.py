"""How a dossier reads to a citizen: status in plain words, dates, days left, owner details."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.dossier import Dossier
from bot.domain.status import Status
from bot.i18n import N_, Gettext, format_date, format_money

STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: N_("Registered, waiting to be received"),
    Status.RECEIVED: N_("Received"),
    Status.NOT_ACCEPTED: N_("Not accepted"),
    Status.PROCESSING: N_("Being processed"),
    Status.SUPPLEMENT_REQUIRED: N_("More documents needed"),
    Status.PAYMENT_REQUIRED: N_("Waiting for fee payment"),
    Status.WITHDRAWN: N_("Withdrawn by the applicant"),
    Status.STOPPED: N_("Processing stopped"),
    Status.READY: N_("Result ready for pickup"),
    Status.RETURNED: N_("Result handed over"),
}

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


def status_label(status: Status, _: Gettext) -> str:
    """The status in plain words, in the user's language."""
    return _(STATUS_LABELS[status])


def days_between(later: datetime, earlier: datetime, tz: ZoneInfo) -> int:
    """Calendar days from `earlier` to `later` in local time (negative when later is before)."""
    return (later.astimezone(tz).date() - earlier.astimezone(tz).date()).days


def due_line(dossier: Dossier, now: datetime, tz: ZoneInfo, _: Gettext) -> str | None:
    """The appointment date with days left or days overdue, or None without a date."""
    if dossier.due_at is None:
        return None
    date = format_date(dossier.due_at, tz)
    if dossier.status.has_result or dossier.status.is_final:
        return _("Appointment date: {date}").format(date=date)
    days = days_between(dossier.due_at, now, tz)
    if dossier.is_overdue(now):
        late = max(days_between(now, dossier.due_at, tz), 1)
        return _("Appointment date: {date} (overdue by {days} day(s))").format(date=date, days=late)
    if days == 0:
        return _("Appointment date: {date} (today)").format(date=date)
    return _("Appointment date: {date} ({days} day(s) left)").format(date=date, days=days)


def status_hint(dossier: Dossier, _: Gettext) -> str | None:
    """One sentence on what the status means for the citizen."""
    if dossier.status is Status.READY:
        if dossier.delivery == "post":
            return _("The result has been sent to you by post.")
        return _("Please come to collect the result; bring the receipt and your ID card.")
    if dossier.status is Status.SUPPLEMENT_REQUIRED:
        return _("The office needs more documents before it can continue.")
    if dossier.status is Status.PAYMENT_REQUIRED:
        return _("Please pay the fee so the office can continue.")
    if dossier.status is Status.RETURNED:
        return _("You have received the result. Thank you!")
    return None


def render_dossier(
    dossier: Dossier, *, owner: bool, now: datetime, tz: ZoneInfo, _: Gettext, language: str
) -> str:
    """The full lookup answer. Details only for the verified owner (design §6)."""
    icon = STATUS_ICONS[dossier.status]
    lines = [
        _("Dossier {code}").format(code=dossier.code),
        _("Procedure: {name}").format(name=dossier.procedure.name),
        _("Agency: {name}").format(name=dossier.agency.name),
        f"{icon} " + _("Status: {status}").format(status=status_label(dossier.status, _)),
    ]
    due = due_line(dossier, now, tz, _)
    if due:
        lines.append(due)
    if dossier.is_extended and dossier.original_due_at is not None:
        lines.append(
            _("The appointment date was moved from {date}.").format(
                date=format_date(dossier.original_due_at, tz)
            )
        )
    hint = status_hint(dossier, _)
    if hint:
        lines.append(hint)
    if owner:
        lines.append("")
        lines.append(_("Applicant: {name}").format(name=dossier.applicant.name))
        if dossier.note:
            lines.append(_("Note from the office: {note}").format(note=dossier.note))
        if dossier.fee is not None and dossier.fee.amount > 0:
            lines.append(
                _("Fee: {amount} VND").format(amount=format_money(dossier.fee.amount, language))
            )
        if dossier.status is Status.READY and dossier.delivery == "counter" and dossier.pickup:
            lines.append(_("Pickup place: {place}").format(place=dossier.pickup.place))
            lines.append(_("Opening hours: {hours}").format(hours=dossier.pickup.hours))
        elif dossier.delivery == "post":
            lines.append(_("Delivery: by post"))
    else:
        lines.append("")
        lines.append(
            _(
                "🔒 To see the details and be told when the result is ready, "
                "confirm that this dossier is yours."
            )
        )
    return "\n".join(lines)


def render_short(dossier: Dossier, *, now: datetime, tz: ZoneInfo, _: Gettext) -> str:
    """One or two lines for the "my dossiers" list."""
    head = f"{STATUS_ICONS[dossier.status]} {dossier.code} — {dossier.procedure.name}"
    parts = [status_label(dossier.status, _)]
    due = due_line(dossier, now, tz, _)
    if due:
        parts.append(due)
    return head + "\n   " + " · ".join(parts)
