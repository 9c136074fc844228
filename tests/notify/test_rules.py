"""The notice rules (design §5): which change notifies whom, once, with what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.status import Status
from bot.notify.rules import (
    Recipient,
    RuleConfig,
    Snapshot,
    apply_change,
    mark_overdue_notified,
    overdue_notices,
)
from bot.ports import Notice
from tests.notify.watch_support import CODE, T0, dossier

CONFIG = RuleConfig(
    reminder_days=(3, 7), survey_delay=timedelta(minutes=30), survey_ttl=timedelta(days=7)
)
ALICE = Recipient(user_id=1, subscribed_at=T0 - timedelta(days=2))
BOB = Recipient(user_id=2, subscribed_at=T0 - timedelta(days=2))
NOW = T0 + timedelta(minutes=1)
LATER = T0 + timedelta(hours=2)


def before(status: Status = Status.PROCESSING, **changes: object) -> Snapshot:
    """The snapshot of the dossier as it was before the change under test."""
    changes.setdefault("status_changed_at", T0 - timedelta(days=1))
    return Snapshot.of(dossier(status, **changes))


def kinds(notices: Sequence[Notice]) -> list[str]:
    return [n.kind for n in notices]


@pytest.mark.parametrize(
    ("status", "previous"),
    [
        (Status.RECEIVED, Status.SUBMITTED),
        (Status.NOT_ACCEPTED, Status.SUBMITTED),
        (Status.SUPPLEMENT_REQUIRED, Status.PROCESSING),
        (Status.PAYMENT_REQUIRED, Status.PROCESSING),
        (Status.WITHDRAWN, Status.PROCESSING),
        (Status.STOPPED, Status.PROCESSING),
        (Status.READY, Status.PROCESSING),
        (Status.RETURNED, Status.READY),
    ],
)
def test_every_notifying_status_tells_each_subscriber_once(
    status: Status, previous: Status
) -> None:
    outcome = apply_change(
        before(previous), dossier(status, status_changed_at=LATER), [ALICE, BOB], NOW, CONFIG
    )
    told = [n for n in outcome.notices if n.kind == status.value]
    assert [n.user_id for n in told] == [1, 2]
    assert told[0].dedup_key == f"1:{CODE}:{status.value}:{LATER.isoformat()}"
    assert len({n.dedup_key for n in outcome.notices}) == len(outcome.notices)
    assert all(n.dossier_code == CODE for n in outcome.notices)
    assert outcome.snapshot is not None
    assert outcome.snapshot.status is status


@pytest.mark.parametrize("status", [Status.PROCESSING, Status.SUBMITTED])
def test_processing_and_submitted_tell_nobody(status: Status) -> None:
    outcome = apply_change(
        before(Status.RECEIVED), dossier(status, status_changed_at=LATER), [ALICE], NOW, CONFIG
    )
    assert outcome.notices == []
    assert outcome.snapshot is not None
    assert outcome.snapshot.status is status


def test_received_carries_the_appointment_date() -> None:
    due = T0 + timedelta(days=10)
    outcome = apply_change(
        before(Status.SUBMITTED),
        dossier(Status.RECEIVED, status_changed_at=LATER, due_at=due),
        [ALICE],
        NOW,
        CONFIG,
    )
    (notice,) = outcome.notices
    assert notice.params["due_at"] == due.isoformat()
    assert notice.params["procedure"] == "Đăng ký khai sinh"
    assert notice.params["agency"] == "UBND phường Bến Nghé"
    assert notice.urgent is False
    assert outcome.end_reason is None


def test_supplement_and_payment_are_urgent_and_carry_note_and_fee() -> None:
    supplement = apply_change(
        before(),
        dossier(Status.SUPPLEMENT_REQUIRED, status_changed_at=LATER, note="Bản sao CCCD"),
        [ALICE],
        NOW,
        CONFIG,
    )
    payment = apply_change(
        before(),
        dossier(Status.PAYMENT_REQUIRED, status_changed_at=LATER, fee={"amount": 1_500_000}),
        [ALICE],
        NOW,
        CONFIG,
    )
    assert supplement.notices[0].urgent
    assert supplement.notices[0].params["note"] == "Bản sao CCCD"
    assert payment.notices[0].urgent
    assert payment.notices[0].params["fee"] == 1_500_000


@pytest.mark.parametrize(
    ("status", "previous"),
    [
        (Status.NOT_ACCEPTED, Status.SUBMITTED),
        (Status.WITHDRAWN, Status.PROCESSING),
        (Status.STOPPED, Status.PROCESSING),
        (Status.RETURNED, Status.READY),
    ],
)
def test_final_statuses_end_the_subscriptions_and_cancel_reminders(
    status: Status, previous: Status
) -> None:
    outcome = apply_change(
        before(previous), dossier(status, status_changed_at=LATER), [ALICE], NOW, CONFIG
    )
    assert outcome.end_reason == status.value
    assert outcome.cancel_kinds == ("reminder",)


def test_ready_at_the_counter_schedules_reminders_after_the_ready_time() -> None:
    outcome = apply_change(
        before(), dossier(Status.READY, status_changed_at=LATER), [ALICE, BOB], NOW, CONFIG
    )
    reminders = [n for n in outcome.notices if n.kind == "reminder"]
    assert sorted((n.user_id, n.not_before) for n in reminders) == [
        (1, LATER + timedelta(days=3)),
        (1, LATER + timedelta(days=7)),
        (2, LATER + timedelta(days=3)),
        (2, LATER + timedelta(days=7)),
    ]
    ready = next(n for n in outcome.notices if n.kind == "ready")
    assert ready.params["place"] == "Quầy số 3, 45 Lê Duẩn"
    assert ready.params["hours"] == "7:30–11:30, 13:30–17:00"
    assert ready.params["delivery"] == "counter"
    assert outcome.end_reason is None


def test_reminders_already_due_when_the_change_is_learnt_are_skipped() -> None:
    outcome = apply_change(
        before(),
        dossier(Status.READY, status_changed_at=T0),
        [ALICE],
        T0 + timedelta(days=4),
        CONFIG,
    )
    assert [n.not_before for n in outcome.notices if n.kind == "reminder"] == [
        T0 + timedelta(days=7)
    ]


def test_ready_by_post_has_no_pickup_reminders() -> None:
    outcome = apply_change(
        before(),
        dossier(Status.READY, status_changed_at=LATER, delivery="post", pickup=None),
        [ALICE],
        NOW,
        CONFIG,
    )
    assert kinds(outcome.notices) == ["ready"]
    assert outcome.notices[0].params["delivery"] == "post"


def test_returned_invites_one_subscriber_to_the_survey_once_per_dossier() -> None:
    outcome = apply_change(
        before(Status.READY),
        dossier(Status.RETURNED, status_changed_at=LATER, returned_at=LATER),
        [ALICE, BOB],
        NOW,
        CONFIG,
    )
    (invitation,) = [n for n in outcome.notices if n.kind == "survey_invitation"]
    assert invitation.user_id == 1
    assert invitation.dedup_key == f"survey:{CODE}"
    assert invitation.params == {"code": CODE}
    assert invitation.not_before == NOW + timedelta(minutes=30)
    assert invitation.expires_at == NOW + timedelta(days=7)
    assert kinds(outcome.notices).count("returned") == 2


def test_returned_without_followers_invites_nobody() -> None:
    outcome = apply_change(
        before(Status.READY), dossier(Status.RETURNED, status_changed_at=LATER), [], NOW, CONFIG
    )
    assert outcome.notices == []
    assert outcome.end_reason == "returned"


def test_an_older_change_is_ignored_entirely() -> None:
    old = before(Status.READY, status_changed_at=LATER)
    outcome = apply_change(
        old, dossier(Status.PROCESSING, status_changed_at=T0), [ALICE], NOW, CONFIG
    )
    assert outcome.snapshot is None
    assert outcome.notices == []
    assert outcome.end_reason is None


def test_a_repeated_change_sends_nothing() -> None:
    first = apply_change(
        before(), dossier(Status.READY, status_changed_at=LATER), [ALICE], NOW, CONFIG
    )
    assert first.snapshot is not None
    again = apply_change(
        first.snapshot, dossier(Status.READY, status_changed_at=LATER), [ALICE], NOW, CONFIG
    )
    assert again.notices == []
    assert again.snapshot is not None


def test_an_extension_tells_the_new_date_with_the_agency_apology() -> None:
    old_due, new_due = T0 + timedelta(days=1), T0 + timedelta(days=6)
    old = before(Status.PROCESSING, due_at=old_due)
    changed = dossier(
        Status.PROCESSING,
        status_changed_at=old.status_changed_at,
        due_at=new_due,
        original_due_at=old_due,
        note="UBND phường xin lỗi ông/bà vì sự chậm trễ.",
    )
    outcome = apply_change(old, changed, [ALICE], NOW, CONFIG)
    (notice,) = outcome.notices
    assert notice.kind == "extension"
    assert notice.params["due_at"] == new_due.isoformat()
    assert notice.params["previous_due_at"] == old_due.isoformat()
    assert notice.params["note"] == "UBND phường xin lỗi ông/bà vì sự chậm trễ."
    assert notice.dedup_key == f"1:{CODE}:extension:{new_due.isoformat()}"
    assert outcome.snapshot is not None
    repeat = apply_change(outcome.snapshot, changed, [ALICE], NOW, CONFIG)
    assert repeat.notices == []


def test_a_restarted_legal_time_is_not_an_extension() -> None:
    old = before(Status.SUPPLEMENT_REQUIRED, due_at=T0 + timedelta(days=1))
    resumed = dossier(Status.RECEIVED, status_changed_at=LATER, due_at=T0 + timedelta(days=15))
    outcome = apply_change(old, resumed, [ALICE], NOW, CONFIG)
    assert kinds(outcome.notices) == ["received"]


def test_blocked_subscribers_get_nothing_new() -> None:
    blocked = Recipient(user_id=3, subscribed_at=T0 - timedelta(days=2), blocked=True)
    outcome = apply_change(
        before(Status.READY),
        dossier(Status.RETURNED, status_changed_at=LATER),
        [blocked, ALICE],
        NOW,
        CONFIG,
    )
    assert {n.user_id for n in outcome.notices} == {1}


def test_a_first_seen_dossier_tells_only_those_who_followed_it_before_the_change() -> None:
    early = Recipient(user_id=1, subscribed_at=LATER - timedelta(hours=1))
    late = Recipient(user_id=2, subscribed_at=LATER + timedelta(minutes=5))
    outcome = apply_change(
        None, dossier(Status.READY, status_changed_at=LATER), [early, late], NOW, CONFIG
    )
    assert {n.user_id for n in outcome.notices} == {1}


def test_a_subscriber_of_the_same_second_as_the_change_is_still_told() -> None:
    # The case API stamps changes to the second; the citizen confirmed the dossier 0.6 s
    # after the officer marked it returned. Missing the thanks and the survey would be worse
    # than a repeated notice.
    changed = LATER.replace(microsecond=0)
    same_moment = Recipient(user_id=1, subscribed_at=changed + timedelta(milliseconds=600))
    outcome = apply_change(
        None, dossier(Status.RETURNED, status_changed_at=changed), [same_moment], NOW, CONFIG
    )
    assert {n.kind for n in outcome.notices} >= {"returned", "survey_invitation"}


def test_overdue_is_told_once_per_appointment_date() -> None:
    due = T0 + timedelta(days=3)
    snapshot = Snapshot.of(dossier(Status.PROCESSING, due_at=due))
    assert overdue_notices(snapshot, [ALICE], due) == []
    (notice,) = overdue_notices(snapshot, [ALICE], due + timedelta(minutes=1))
    assert notice.kind == "overdue"
    assert notice.params["due_at"] == due.isoformat()
    told = mark_overdue_notified(snapshot, due + timedelta(minutes=1))
    assert overdue_notices(told, [ALICE], due + timedelta(days=1)) == []

    # An extension moves the date: the new date passing is news again.
    new_due = due + timedelta(days=5)
    extended = apply_change(
        told,
        dossier(Status.PROCESSING, due_at=new_due, original_due_at=due),
        [ALICE],
        due + timedelta(days=1),
        CONFIG,
    )
    assert extended.snapshot is not None
    assert extended.snapshot.overdue_notified_at is None
    assert overdue_notices(extended.snapshot, [ALICE], new_due + timedelta(hours=1))


@pytest.mark.parametrize("status", [Status.READY, Status.RETURNED, Status.STOPPED])
def test_a_dossier_with_a_result_or_closed_is_never_overdue(status: Status) -> None:
    snapshot = Snapshot.of(dossier(status, due_at=T0))
    assert overdue_notices(snapshot, [ALICE], T0 + timedelta(days=30)) == []


NOTIFYING_PATHS = [
    [Status.RECEIVED, Status.PROCESSING, Status.SUPPLEMENT_REQUIRED, Status.RECEIVED],
    [Status.RECEIVED, Status.PAYMENT_REQUIRED, Status.READY, Status.RETURNED],
    [Status.RECEIVED, Status.PROCESSING, Status.STOPPED],
]


@given(
    path=st.sampled_from(NOTIFYING_PATHS),
    replay=st.lists(st.integers(min_value=0, max_value=3), max_size=6),
)
def test_replaying_any_earlier_change_never_notifies_again(
    path: list[Status], replay: list[int]
) -> None:
    """Whatever arrives late or twice, every (user, event) is told at most once."""
    changes = [
        dossier(status, status_changed_at=T0 + timedelta(hours=i)) for i, status in enumerate(path)
    ]
    sequence = changes + [changes[i % len(changes)] for i in replay]
    snapshot: Snapshot | None = None
    keys: list[str] = []
    for change in sequence:
        outcome = apply_change(snapshot, change, [ALICE], T0, CONFIG)
        if outcome.snapshot is not None:
            snapshot = outcome.snapshot
        keys += [n.dedup_key for n in outcome.notices]
    assert len(keys) == len(set(keys))
    assert snapshot is not None
    assert snapshot.status is path[-1]
