"""Every notice and every lookup card, in both languages, kept as text files a reviewer reads.

The files under ``tests/snapshots/`` are what a citizen sees for each status of design §5 and
for the overdue, extended, supplement, fee and by-post cases. A change of wording shows up as
a diff of those files. After an intended change, regenerate them and read the diff::

    MOTCUA_UPDATE_SNAPSHOTS=1 python -m pytest -q tests/test_snapshots.py
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.composition import notice_renderers
from bot.domain.dossier import Dossier
from bot.domain.notice_kinds import NoticeKind
from bot.domain.status import Status
from bot.handlers.render import CardTexts, render_dossier, render_short
from bot.messages import Reply
from bot.notify.rendering import RenderContext
from bot.notify.rules import (
    NOTICE_KINDS,
    Recipient,
    RuleConfig,
    Snapshot,
    apply_change,
    overdue_notices,
)
from tests.notify.watch_support import T0, dossier

SNAPSHOTS = Path(__file__).parent / "snapshots"
RENDERERS = notice_renderers()
UPDATE = os.environ.get("MOTCUA_UPDATE_SNAPSHOTS") == "1"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = T0  # 09:00 on 14/03/2025 in Hà Nội
ALICE = Recipient(user_id=1, subscribed_at=T0 - timedelta(days=30))
NOTES = {
    Status.NOT_ACCEPTED: "Thủ tục không thuộc thẩm quyền giải quyết của UBND phường",
    Status.SUPPLEMENT_REQUIRED: "Bản sao giấy chứng sinh; tờ khai có chữ ký của người đi khai",
    Status.PAYMENT_REQUIRED: "Lệ phí đăng ký khai sinh theo Thông báo nộp tiền số 15/TB",
    Status.STOPPED: "Công dân không bổ sung hồ sơ trong thời hạn",
}
FEE = {"amount": 1_500_000, "currency": "VND"}


def _case(status: Status, **changes: Any) -> Dossier:
    extra: dict[str, Any] = {"note": NOTES.get(status)}
    if status is Status.PAYMENT_REQUIRED:
        extra["fee"] = FEE
    if status is Status.RETURNED:
        extra["returned_at"] = T0
    return dossier(status, **(extra | changes))


def card_cases() -> Iterator[tuple[str, Dossier]]:
    """Every status, then the special cases."""
    for status in Status:
        yield f"{status.code} {status.value}", _case(status)
    yield "overdue, no new date", _case(Status.PROCESSING, due_at=T0 - timedelta(days=2))
    yield (
        "extended (new date, reason)",
        _case(
            Status.PROCESSING,
            original_due_at=T0 - timedelta(days=1),
            due_at=T0 + timedelta(days=7),
            note="Cần xác minh thông tin tại nơi cư trú",
        ),
    )
    yield (
        "extended, new date also passed",
        _case(
            Status.PROCESSING,
            original_due_at=T0 - timedelta(days=10),
            due_at=T0 - timedelta(days=1),
        ),
    )
    yield "due today", _case(Status.PROCESSING, due_at=T0 + timedelta(hours=3))
    yield "1 day left", _case(Status.PROCESSING, due_at=T0 + timedelta(days=1))
    yield "supplement, no note", _case(Status.SUPPLEMENT_REQUIRED, note=None)
    yield (
        "supplement past the old date (no countdown)",
        _case(Status.SUPPLEMENT_REQUIRED, due_at=T0 - timedelta(days=3)),
    )
    yield "fee without an amount", _case(Status.PAYMENT_REQUIRED, fee=None)
    yield "ready by post", _case(Status.READY, delivery="post", pickup=None)
    yield "ready at the counter, no pickup details", _case(Status.READY, pickup=None)
    yield "processing, result by post", _case(Status.PROCESSING, delivery="post")


def notice_cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every notice kind the watcher queues, with the params the rules give it."""
    earlier = T0 - timedelta(days=1)
    for status in Status:
        previous = Snapshot.of(_case(Status.PROCESSING, status_changed_at=earlier))
        outcome = apply_change(
            previous, _case(status, status_changed_at=T0), [ALICE], NOW, RuleConfig()
        )
        for notice in outcome.notices:
            if notice.kind == "reminder" and notice.params.get("days") != 3:
                continue  # one reminder is enough: the others differ only in their date
            yield f"{notice.kind} (status {status.code})", notice.kind, dict(notice.params)
    for label, changes in (
        ("ready by post", {"delivery": "post", "pickup": None}),
        ("ready, no pickup details", {"pickup": None}),
    ):
        previous = Snapshot.of(_case(Status.PROCESSING, status_changed_at=earlier))
        outcome = apply_change(
            previous, _case(Status.READY, status_changed_at=T0, **changes), [ALICE], NOW,
            RuleConfig(),
        )  # fmt: skip
        yield label, "ready", dict(outcome.notices[0].params)
    for label, changes in (
        ("supplement, no note", {"note": None}),
        ("fee without an amount", {"fee": None}),
    ):
        status = Status.SUPPLEMENT_REQUIRED if "supplement" in label else Status.PAYMENT_REQUIRED
        previous = Snapshot.of(_case(Status.PROCESSING, status_changed_at=earlier))
        outcome = apply_change(
            previous, _case(status, status_changed_at=T0, **changes), [ALICE], NOW, RuleConfig()
        )
        yield label, status.value, dict(outcome.notices[0].params)
    old_due = T0 - timedelta(days=1)
    for label, note in (("extension with a reason", "Cần xác minh thông tin"), ("extension", None)):
        outcome = apply_change(
            Snapshot.of(_case(Status.PROCESSING, due_at=old_due)),
            _case(Status.PROCESSING, due_at=T0 + timedelta(days=7), original_due_at=old_due,
                  note=note),
            [ALICE], NOW, RuleConfig(),
        )  # fmt: skip
        yield label, "extension", dict(outcome.notices[0].params)
    snapshot = Snapshot.of(_case(Status.PROCESSING, due_at=T0 - timedelta(days=1)))
    (overdue,) = overdue_notices(snapshot, [ALICE], NOW)
    yield "overdue", "overdue", dict(overdue.params)


def _buttons(reply: Reply) -> str:
    labels = [" | ".join(b.label for b in row) for row in reply.buttons]
    return "\n".join(f"[{row}]" for row in labels)


def lookup_document(language: str) -> str:
    """Every lookup card (owner and stranger) and the "my dossiers" line, in `language`."""
    texts = CardTexts(language, TZ)
    parts = [f"# Lookup cards ({language}), as seen on 14/03/2025 09:00 (Asia/Ho_Chi_Minh)\n"]
    for label, case in card_cases():
        for owner in (True, False):
            who = "verified owner" if owner else "anyone with the code"
            parts.append(f"══ {label} · {who} ══")
            parts.append(render_dossier(case, owner=owner, now=NOW, texts=texts))
            parts.append("")
        parts.append(f"── {label} · line in /mine ──")
        parts.append(render_short(case, now=NOW, texts=texts))
        parts.append("")
    return "\n".join(parts)


def notice_document(language: str) -> str:
    """Every notice, in `language`."""
    ctx = RenderContext(language, TZ)
    parts = [f"# Notices ({language})\n"]
    for label, kind, params in notice_cases():
        for number, reply in enumerate(RENDERERS.render(kind, params, ctx), start=1):
            suffix = f" · message {number}" if number > 1 else ""
            parts.append(f"══ {label}{suffix} ══")
            parts.append(reply.text)
            if reply.buttons:
                parts.append(_buttons(reply))
            parts.append("")
    return "\n".join(parts)


def _check(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; run MOTCUA_UPDATE_SNAPSHOTS=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{name} (kept)",
                tofile=f"{name} (now)",
            )
        )
        pytest.fail(
            f"{name} differs from what the code renders now; read the diff, and if the change "
            f"is intended run MOTCUA_UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name}\n{diff}"
        )


@pytest.mark.parametrize("language", ["vi", "en"])
def test_lookup_cards(language: str) -> None:
    _check(f"lookup.{language}.txt", lookup_document(language))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_notices(language: str) -> None:
    _check(f"notices.{language}.txt", notice_document(language))


def test_every_notice_kind_is_in_the_snapshots() -> None:
    kinds = {kind for _, kind, _ in notice_cases()}
    assert kinds == NOTICE_KINDS | {NoticeKind.SURVEY_INVITATION}
    assert kinds <= RENDERERS.kinds()


def test_every_status_has_a_card() -> None:
    labels = [label for label, _ in card_cases()]
    assert all(any(label.startswith(f"{s.code} ") for label in labels) for s in Status)
