"""The outbox's states: where a queued notice stands on its way to the citizen."""

from __future__ import annotations

from enum import StrEnum


class OutboxState(StrEnum):
    """Where a notice in the outbox stands."""

    QUEUED = "queued"  # waiting for its time (next_attempt_at)
    SENDING = "sending"  # claimed by a dispatcher until its lease ends
    RETRYING = "retrying"  # failed for a passing reason; waits for next_attempt_at
    HELD = "held"  # the chat window is closed; waits for the user to write again
    SENT = "sent"
    DEAD = "dead"  # will never be sent (blocked user, refused message, too many attempts)
    CANCELLED = "cancelled"  # made pointless by a later change (e.g. reminders once returned)
    EXPIRED = "expired"  # not sent before expires_at

    @property
    def pending(self) -> bool:
        """Whether a notice in this state may still be sent (and so be cancelled)."""
        return self in PENDING_STATES

    @property
    def finished(self) -> bool:
        """Whether a notice in this state is done with (housekeeping may delete it)."""
        return self in FINISHED_STATES


PENDING_STATES: frozenset[OutboxState] = frozenset(
    {OutboxState.QUEUED, OutboxState.RETRYING, OutboxState.HELD}
)
FINISHED_STATES: frozenset[OutboxState] = frozenset(
    {OutboxState.SENT, OutboxState.DEAD, OutboxState.CANCELLED, OutboxState.EXPIRED}
)
#: Waiting for their turn: the oldest one that is due tells whether delivery is stuck.
WAITING_STATES: frozenset[OutboxState] = frozenset({OutboxState.QUEUED, OutboxState.RETRYING})
#: Where a failed attempt shows (with its error) on the officials' delivery page: given up,
#: to be tried again, or waiting for the chat window to open.
FAILED_STATES: frozenset[OutboxState] = frozenset(
    {OutboxState.DEAD, OutboxState.RETRYING, OutboxState.HELD}
)
