"""One event never becomes more than a few messages (issue 12 finding 5): the case system's
long texts are cut with "…" before a notice is rendered, whatever the notice's kind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.channels.telegram.render import split_text as telegram_pieces
from bot.channels.zalo.render import split_text as zalo_pieces
from bot.composition import notice_renderers
from bot.domain.snapshot import Recipient, Snapshot
from bot.domain.status import Status
from bot.notify.rendering import RenderContext
from bot.notify.rules import RuleConfig, apply_change
from tests.notify.watch_support import T0, dossier

RENDERERS = notice_renderers()

HUGE = "Giấy tờ cần bổ sung theo quy định. " * 3_000  # about 100,000 characters
HUGE_FIELDS = {
    "note": HUGE,
    "procedure": {"code": "1.001", "name": HUGE, "field": HUGE},
    "agency": {"code": "000.00.15.H12", "name": HUGE},
    "applicant": {"name": HUGE},
}


@pytest.mark.parametrize(
    "status",
    [
        Status.RECEIVED,
        Status.NOT_ACCEPTED,
        Status.SUPPLEMENT_REQUIRED,
        Status.PAYMENT_REQUIRED,
        Status.WITHDRAWN,
        Status.STOPPED,
        Status.READY,
        Status.RETURNED,
    ],
)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_huge_note_and_names_make_one_message_per_notice(status: Status, language: str) -> None:
    extra = {"pickup": {"place": HUGE, "hours": HUGE}} if status is Status.READY else {}
    old = Snapshot.of(dossier(Status.PROCESSING, status_changed_at=T0 - timedelta(days=1)))
    new = dossier(status, status_changed_at=T0, **HUGE_FIELDS, **extra)
    outcome = apply_change(
        old, new, [Recipient(user_id=1, subscribed_at=T0 - timedelta(days=2))], T0, RuleConfig()
    )
    assert outcome.notices
    for notice in outcome.notices:
        if notice.kind == "survey_invitation":
            continue
        replies = RENDERERS.render(notice.kind, notice.params, RenderContext(language))
        texts = [reply.text for reply in replies]
        # One message: also what the dispatcher's pacing counts a notice as.
        assert sum(len(telegram_pieces(text)) for text in texts) == 1, notice.kind
        assert sum(len(zalo_pieces(text)) for text in texts) == 1, notice.kind
        assert any("…" in text for text in texts)


def test_an_extension_with_a_huge_apology_is_one_message() -> None:
    old = Snapshot.of(dossier(Status.PROCESSING))
    assert old.due_at is not None
    new = dossier(
        Status.PROCESSING,
        due_at=old.due_at + timedelta(days=5),
        original_due_at=old.due_at,
        **HUGE_FIELDS,
    )
    outcome = apply_change(
        old, new, [Recipient(user_id=1, subscribed_at=T0 - timedelta(days=2))], T0, RuleConfig()
    )
    [notice] = outcome.notices
    [reply] = RENDERERS.render(notice.kind, notice.params, RenderContext("vi"))
    assert len(zalo_pieces(reply.text)) == 1
