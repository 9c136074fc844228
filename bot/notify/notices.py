"""The texts of the watcher's notices, in the user's language at send time.

One renderer per kind queued by `bot.notify.rules`: a status kind (received, not_accepted,
supplement_required, payment_required, withdrawn, stopped, ready, returned), "extension",
"overdue" and "reminder". Their params are what the rules put there: the dossier code,
procedure and agency names, dates as ISO strings, and the kind's own details (note, fee,
pickup place and hours, delivery). These notices go only to subscribers, who are verified
owners, so owner-only details (note, fee, pickup) may appear (design §6).

`RENDERERS` maps each kind to its renderer; the composition root hands it to the dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot import payloads, wording
from bot.domain.notice_kinds import NoticeKind
from bot.i18n import Gettext, format_date, format_money
from bot.messages import Button, Reply
from bot.notify.rendering import RenderContext, Renderer
from bot.payloads import Action

Params = Mapping[str, Any]


def _date(params: Params, key: str, ctx: RenderContext) -> str | None:
    value = params.get(key)
    if not value:
        return None
    return format_date(datetime.fromisoformat(str(value)), ctx.tz)


def _headline(params: Params) -> str:
    """ "<code> (<procedure>)", the way every notice names its dossier."""
    procedure = params.get("procedure")
    return f"{params['code']} ({procedure})" if procedure else str(params["code"])


def _buttons(params: Params, _: Gettext, *, follow: bool) -> tuple[tuple[Button, ...], ...]:
    """A refresh button and, while the dossier is followed, one to stop its notices."""
    code = str(params["code"])
    try:
        row = [Button(_("🔄 Refresh"), payloads.make(Action.LOOKUP, code))]
        if follow:
            row.append(Button(_("🔕 Stop notices"), payloads.make(Action.UNSUBSCRIBE, code)))
    except ValueError:  # a code too long for a button payload: the text alone still helps
        return ()
    return (tuple(row),)


def _reply(lines: Sequence[str | None], params: Params, _: Gettext, *, follow: bool) -> Reply:
    text = "\n".join(line for line in lines if line)
    return Reply(text=text, buttons=_buttons(params, _, follow=follow))


def _office(params: Params, ctx: RenderContext) -> str:
    return wording.office_of(ctx.office, str(params.get("agency") or ""))


def _pickup_lines(params: Params, ctx: RenderContext) -> list[str | None]:
    _ = ctx._
    place, hours = params.get("place"), params.get("hours")
    return [
        _("Pickup place: {place}").format(place=place or _office(params, ctx)),
        _("Opening hours: {hours}").format(hours=hours) if place and hours else None,
        wording.bring_to_pickup(_),
        wording.proxy_pickup(_),
    ]


def _final(_: Gettext) -> str:
    return _("You will get no more notices about this dossier.")


def render_received(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The dossier was received, with the appointment date."""
    _ = ctx._
    due = _date(params, "due_at", ctx)
    return [
        _reply(
            [
                _("📥 Dossier {dossier} has been received by {agency}.").format(
                    dossier=_headline(params), agency=params.get("agency", "")
                ),
                _("Appointment date for the result: {date}.").format(date=due) if due else None,
            ],
            params,
            _,
            follow=True,
        )
    ]


def render_not_accepted(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The dossier was not accepted, with the reason; the subscription ends."""
    _ = ctx._
    note = params.get("note")
    return [
        _reply(
            [
                _("⛔ Dossier {dossier} was not accepted by {agency}.").format(
                    dossier=_headline(params), agency=params.get("agency", "")
                ),
                _("Reason: {reason}").format(reason=note) if note else None,
                _final(_),
            ],
            params,
            _,
            follow=False,
        )
    ]


def render_supplement_required(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """A supplement request: what to add, how and where, and that the clock starts again.

    A calm heading: the citizen must act, but "URGENT" is a grade of official documents and
    alarms more than it helps. The notice still goes first when quiet hours end.
    """
    _ = ctx._
    note = params.get("note")
    office = _office(params, ctx)
    return [
        _reply(
            [
                _("📎 Dossier {dossier}: the office asks you to add to your dossier.").format(
                    dossier=_headline(params)
                ),
                wording.supplement_reason(str(note) if note else None, office, _),
                wording.supplement_how(office, _),
                wording.supplement_rules(_),
            ],
            params,
            _,
            follow=True,
        )
    ]


def render_payment_required(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """Financial obligations (fees, charges, taxes, land-use fees) to fulfil before processing
    continues."""
    _ = ctx._
    fee, note = params.get("fee"), params.get("note")
    return [
        _reply(
            [
                _("💳 Dossier {dossier}: financial obligations to fulfil.").format(
                    dossier=_headline(params)
                ),
                wording.payment_what(_),
                _("Amount to pay: {amount} VND").format(amount=format_money(fee, ctx.language))
                if isinstance(fee, int) and fee > 0
                else None,
                _("Details: {note}").format(note=note) if note else None,
                wording.payment_how(_office(params, ctx), _),
            ],
            params,
            _,
            follow=True,
        )
    ]


def render_withdrawn(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """Confirmation that the dossier was withdrawn; the subscription ends."""
    _ = ctx._
    return [
        _reply(
            [
                _("↩️ Dossier {dossier} has been withdrawn at your request.").format(
                    dossier=_headline(params)
                ),
                _final(_),
            ],
            params,
            _,
            follow=False,
        )
    ]


def render_stopped(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """Processing was stopped, with the reason; the subscription ends."""
    _ = ctx._
    note = params.get("note")
    return [
        _reply(
            [
                _("⛔ Processing of dossier {dossier} has been stopped.").format(
                    dossier=_headline(params)
                ),
                _("Reason: {reason}").format(reason=note) if note else None,
                _final(_),
            ],
            params,
            _,
            follow=False,
        )
    ]


def render_ready(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The result is ready: where and when to collect it and what to bring, or the post."""
    _ = ctx._
    if params.get("delivery") == "post":
        lines: list[str | None] = [
            _("📮 The result of dossier {dossier} is ready.").format(dossier=_headline(params)),
            wording.by_post(_),
            _("You do not need to come to the office."),
        ]
    else:
        lines = [
            _("✅ The result of dossier {dossier} is ready for pickup.").format(
                dossier=_headline(params)
            ),
            *_pickup_lines(params, ctx),
        ]
    return [_reply(lines, params, _, follow=True)]


def render_returned(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """Thanks for collecting the result; the status notices end (a survey may follow)."""
    _ = ctx._
    return [
        _reply(
            [
                _("🎉 You have received the result of dossier {dossier}.").format(
                    dossier=_headline(params)
                ),
                _("Thank you for using the public services of {agency}!").format(
                    agency=params.get("agency", "")
                ),
                _(
                    "This is the last status notice about this dossier. You may still get one "
                    "short, optional survey about how it was handled."
                ),
            ],
            params,
            _,
            follow=False,
        )
    ]


def render_extension(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The agency's apology and the new appointment date, the reason, the citizen's rights."""
    _ = ctx._
    new = _date(params, "due_at", ctx) or ""
    previous, note = _date(params, "previous_due_at", ctx), params.get("note")
    return [
        _reply(
            [
                _("🗓 Dossier {dossier}: new appointment date.").format(dossier=_headline(params)),
                wording.apology_with_new_date(str(params.get("agency", "")), new, previous, _),
                wording.reason_for_delay(str(note), _) if note else None,
                wording.late_rights(_),
            ],
            params,
            _,
            follow=True,
        )
    ]


def render_overdue(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The appointment date passed without a result (sent once per date): the apology, that
    no new date is known, how to reach the office, the citizen's rights."""
    _ = ctx._
    return [
        _reply(
            [
                _("⏰ Dossier {dossier}: the appointment date {date} has passed.").format(
                    dossier=_headline(params), date=_date(params, "due_at", ctx)
                ),
                wording.apology_without_new_date(str(params.get("agency", "")), _),
                wording.contact_office(_office(params, ctx), _),
                wording.late_rights(_),
            ],
            params,
            _,
            follow=True,
        )
    ]


def render_reminder(params: Params, ctx: RenderContext) -> Sequence[Reply]:
    """The result has been waiting for pickup since the ready date."""
    _ = ctx._
    return [
        _reply(
            [
                _(
                    "🔔 Reminder: the result of dossier {dossier} has been ready since {date} "
                    "and has not been collected yet."
                ).format(dossier=_headline(params), date=_date(params, "ready_at", ctx)),
                *_pickup_lines(params, ctx),
            ],
            params,
            _,
            follow=True,
        )
    ]


RENDERERS: Mapping[NoticeKind, Renderer] = {
    NoticeKind.RECEIVED: render_received,
    NoticeKind.NOT_ACCEPTED: render_not_accepted,
    NoticeKind.SUPPLEMENT_REQUIRED: render_supplement_required,
    NoticeKind.PAYMENT_REQUIRED: render_payment_required,
    NoticeKind.WITHDRAWN: render_withdrawn,
    NoticeKind.STOPPED: render_stopped,
    NoticeKind.READY: render_ready,
    NoticeKind.RETURNED: render_returned,
    NoticeKind.EXTENSION: render_extension,
    NoticeKind.OVERDUE: render_overdue,
    NoticeKind.REMINDER: render_reminder,
}
"""The renderer of every kind the watcher queues."""
