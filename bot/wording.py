"""Sentences the lookup card and the notices share, so a citizen reads one thing one way.

Each function takes the citizen's gettext (and, for counts, ngettext) and returns finished
text. The official terms and their legal sources are listed in ``docs/glossary.md``:

- statuses: the national public service portal's names (design §5);
- late dossiers: the agency's apology and new appointment date ("Phiếu xin lỗi và hẹn lại
  ngày trả kết quả"), Decree 118/2025/NĐ-CP and Circular 03/2025/TT-VPCP (before them Decree
  61/2018/NĐ-CP as amended by Decree 107/2021/NĐ-CP);
- supplement requests: asked for once and in full; the processing time counts again from the
  day the dossier is complete;
- identity papers: "thẻ căn cước" (Law on Identification 2023, in force 1 July 2024; older
  cards stay valid until they expire);
- results by post: "dịch vụ bưu chính công ích" (the public postal service).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.status import Status
from bot.i18n import N_, Gettext

Ngettext = Callable[[str, str, int], str]

DEFAULT_OFFICE_NAME = "Bộ phận Một cửa"
"""The office's name as citizens know it; `MOTCUA_OFFICE_NAME` changes it (many provinces
now call theirs "Trung tâm Phục vụ hành chính công")."""

STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: N_("Newly registered"),
    Status.RECEIVED: N_("Received"),
    Status.NOT_ACCEPTED: N_("Not accepted"),
    Status.PROCESSING: N_("Being processed"),
    Status.SUPPLEMENT_REQUIRED: N_("Supplement to the dossier requested"),
    Status.PAYMENT_REQUIRED: N_("Financial obligations to be fulfilled"),
    Status.WITHDRAWN: N_("Withdrawn by the citizen"),
    Status.STOPPED: N_("Processing stopped"),
    Status.READY: N_("Result ready, waiting to be handed over"),
    Status.RETURNED: N_("Result handed over"),
}
"""The national public service portal's status names (Vietnamese in the catalog)."""


def status_label(status: Status, _: Gettext) -> str:
    """The portal's name of `status`, in the user's language."""
    return _(STATUS_LABELS[status])


def office_of(office: str, agency: str) -> str:
    """Where the citizen goes: the office, and the agency when it is known."""
    return f"{office} – {agency}" if agency else office


def minutes_phrase(minutes: int, ngettext: Ngettext) -> str:
    """ "5 minutes" / "1 minute" / "5 phút"."""
    return ngettext("{minutes} minute", "{minutes} minutes", minutes).format(minutes=minutes)


def days_text(days: int, ngettext: Ngettext) -> str:
    """ "3 days" / "1 day" / "3 ngày"."""
    return ngettext("{days} day", "{days} days", days).format(days=days)


# --------------------------------------------------------------------------- late dossiers


def apology_with_new_date(agency: str, new: str, previous: str | None, _: Gettext) -> str:
    """The agency's apology for the delay, with the new appointment date."""
    if previous:
        return _(
            "🙏 {agency} apologises for not returning the result on the appointment date. "
            "New appointment date: {date} (previously {previous})."
        ).format(agency=agency, date=new, previous=previous)
    return _(
        "🙏 {agency} apologises for not returning the result on the appointment date. "
        "New appointment date: {date}."
    ).format(agency=agency, date=new)


def apology_without_new_date(agency: str, _: Gettext) -> str:
    """The apology for an overdue dossier for which no new date has been set yet."""
    return _(
        "🙏 {agency} apologises: the appointment date has passed and the result is not ready. "
        "No new appointment date has been set yet."
    ).format(agency=agency)


def contact_office(office: str, _: Gettext) -> str:
    """How to ask about a late dossier."""
    return _(
        "To learn when the result will be ready, please contact {office}, where you "
        "submitted the dossier, with your receipt at hand."
    ).format(office=office)


def reason_for_delay(note: str, _: Gettext) -> str:
    """The reason the case system gave for the new date."""
    return _("Reason for the delay: {reason}").format(reason=note)


def late_rights(_: Gettext) -> str:
    """The citizen's rights when a dossier is late."""
    return _(
        "You may ask the office for the written apology letter with the new date "
        "(“Phiếu xin lỗi và hẹn lại ngày trả kết quả”), and you may send feedback or a "
        "complaint about the delay at the office or on the National Public Service Portal."
    )


# --------------------------------------------------------------------------- supplements, fees


def supplement_reason(note: str | None, office: str, _: Gettext) -> str:
    """What has to be added ("Nội dung cần bổ sung")."""
    if note:
        return _("Documents to add: {note}").format(note=note)
    return _(
        "The request does not say what to add; please ask {office} before preparing the documents."
    ).format(office=office)


def supplement_how(office: str, _: Gettext) -> str:
    """How and where to hand in the supplement."""
    return _(
        "How to submit: bring the documents to {office}, or, if you applied online, add them "
        "to your dossier on the National Public Service Portal or the provincial portal."
    ).format(office=office)


def supplement_rules(_: Gettext) -> str:
    """The office asks once and in full; the clock starts again from the complete dossier."""
    return _(
        "The office must ask for everything that is missing at once. The processing time "
        "is counted again from the day the complete dossier is received."
    )


def clock_stopped_supplement(_: Gettext) -> str:
    """The appointment line while the office waits for a supplement."""
    return _(
        "Appointment date: a new date will be set once the complete dossier is received "
        "(days are not counted while the office waits)."
    )


def payment_what(_: Gettext) -> str:
    """Status 6 covers more than fees."""
    return _(
        "The dossier is waiting for you to fulfil its financial obligations (fees, charges, "
        "taxes or land-use fees, as the office's payment notice says)."
    )


def payment_how(office: str, _: Gettext) -> str:
    """How to pay."""
    return _(
        "How to pay: at {office}, at the place named in the payment notice, or online on the "
        "National Public Service Portal where the notice allows it. Processing continues once "
        "the payment is made."
    ).format(office=office)


def clock_stopped_payment(date: str, _: Gettext) -> str:
    """The appointment line while the office waits for a payment (no countdown)."""
    return _(
        "Appointment date: {date} (days are not counted while the office waits for the payment)"
    ).format(date=date)


# --------------------------------------------------------------------------- results


def bring_to_pickup(_: Gettext) -> str:
    """What to bring to collect the result, and collecting on someone's behalf."""
    return _(
        "When you come, please bring the receipt (“Giấy tiếp nhận hồ sơ và hẹn trả kết quả”) "
        "and your identity card (thẻ căn cước, or a citizen identity card that has not expired)."
    )


def proxy_pickup(_: Gettext) -> str:
    """Someone else collecting the result."""
    return _(
        "Someone collecting on your behalf must bring their own identity card and a letter "
        "of authorisation from you."
    )


def by_post(_: Gettext) -> str:
    """The result travels by the public postal service."""
    return _("The result is sent to you by the public postal service (dịch vụ bưu chính công ích).")


def delivery_by_post(_: Gettext) -> str:
    """The delivery line of an owner's card."""
    return _("Delivery of the result: by the public postal service")
