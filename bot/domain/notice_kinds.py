"""The kinds of notice the bot pushes: one definition for the rules that queue them, the
renderers that word them, the outbox that stores them and the channels' templates."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.status import Status


class NoticeKind(StrEnum):
    """What a pushed notice is about. Status kinds are named after the status (design §5)."""

    RECEIVED = Status.RECEIVED.value
    NOT_ACCEPTED = Status.NOT_ACCEPTED.value
    SUPPLEMENT_REQUIRED = Status.SUPPLEMENT_REQUIRED.value
    PAYMENT_REQUIRED = Status.PAYMENT_REQUIRED.value
    WITHDRAWN = Status.WITHDRAWN.value
    STOPPED = Status.STOPPED.value
    READY = Status.READY.value
    RETURNED = Status.RETURNED.value
    EXTENSION = "extension"  # a new appointment date, with the agency's apology
    OVERDUE = "overdue"  # the appointment date passed without a result (once)
    REMINDER = "reminder"  # the result still waits for pickup
    SURVEY_INVITATION = "survey_invitation"  # after the result was handed over
    FEEDBACK_REPLY = "feedback_reply"  # an official's answer to the citizen's feedback

    @classmethod
    def of_status(cls, status: Status) -> NoticeKind:
        """The kind of the notice telling a subscriber that a dossier reached `status`."""
        return cls(status.value)
