"""What a citizen reads for each notice, in Vietnamese and in English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.composition import notice_renderers
from bot.domain.notice_kinds import NoticeKind
from bot.domain.status import Status
from bot.notify.rendering import RenderContext
from bot.notify.rules import (
    NOTICE_KINDS,
    Recipient,
    RuleConfig,
    Snapshot,
    apply_change,
    overdue_notices,
)
from tests.notify.watch_support import CODE, T0, dossier

VI, EN = RenderContext("vi"), RenderContext("en")
RENDERERS = notice_renderers()
ALICE = Recipient(user_id=1, subscribed_at=T0 - timedelta(days=2))
LATER = T0 + timedelta(hours=2)  # 11:00 local time on 14/03/2025


def notice_params(status: Status, **changes: object) -> dict[str, object]:
    """The params the rules give the first notice of a change to `status`."""
    previous = Snapshot.of(dossier(Status.PROCESSING, status_changed_at=T0 - timedelta(days=1)))
    outcome = apply_change(
        previous, dossier(status, status_changed_at=LATER, **changes), [ALICE], T0, RuleConfig()
    )
    return dict(outcome.notices[0].params)


def text(kind: str, params: dict[str, object], ctx: RenderContext) -> str:
    (reply,) = RENDERERS.render(kind, params, ctx)
    return reply.text


def test_every_kind_the_rules_queue_has_a_renderer() -> None:
    assert RENDERERS.kinds() >= NOTICE_KINDS


def test_every_notice_kind_has_a_renderer() -> None:
    assert RENDERERS.kinds() == set(NoticeKind)


def test_ready_at_the_counter_says_where_when_and_what_to_bring() -> None:
    params = notice_params(Status.READY)
    vi, en = text("ready", params, VI), text("ready", params, EN)
    assert vi.startswith(f"✅ Hồ sơ {CODE} (Đăng ký khai sinh) đã có kết quả, mời ông/bà đến nhận.")
    assert "Quầy số 3, 45 Lê Duẩn" in vi
    assert "7:30–11:30, 13:30–17:00" in vi
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in vi
    assert "căn cước" in vi
    assert f"The result of dossier {CODE} (Đăng ký khai sinh) is ready for pickup." in en
    assert "Pickup place: Quầy số 3, 45 Lê Duẩn" in en
    assert "thẻ căn cước" in vi and "căn cước công dân" in vi  # old cards valid until expiry
    assert "văn bản ủy quyền" in vi  # collecting on someone's behalf
    assert "Please bring the receipt" not in en
    assert "your identity card (thẻ căn cước" in en
    assert "letter of authorisation" in en


def test_ready_buttons_refresh_and_stop_notices_for_that_dossier() -> None:
    (reply,) = RENDERERS.render("ready", notice_params(Status.READY), EN)
    (row,) = reply.buttons
    assert [(b.label, b.payload) for b in row] == [
        ("🔄 Refresh", f"lk:{CODE}"),
        ("🔕 Stop notices", f"us:{CODE}"),
    ]


def test_ready_by_post_says_no_need_to_come() -> None:
    params = notice_params(Status.READY, delivery="post", pickup=None)
    vi, en = text("ready", params, VI), text("ready", params, EN)
    assert "qua dịch vụ bưu chính công ích" in vi
    assert "không cần đến" in vi
    assert "Quầy" not in vi
    assert "by the public postal service" in en


def test_received_gives_the_appointment_date_in_local_time() -> None:
    # 17:30 UTC on the 20th is already the 21st in Hà Nội.
    due = T0.replace(day=20, hour=17, minute=30)
    params = notice_params(Status.RECEIVED, due_at=due)
    assert "Ngày hẹn trả kết quả: 21/03/2025." in text("received", params, VI)
    assert "Appointment date for the result: 21/03/2025." in text("received", params, EN)


def test_supplement_is_calm_and_says_what_how_and_that_the_clock_restarts() -> None:
    params = notice_params(Status.SUPPLEMENT_REQUIRED, note="Bản sao giấy chứng sinh")
    vi = text("supplement_required", params, VI)
    assert vi.startswith("📎 Hồ sơ")
    assert "KHẨN" not in vi
    assert "Nội dung cần bổ sung: Bản sao giấy chứng sinh" in vi
    assert "Bộ phận Một cửa – UBND phường Bến Nghé" in vi  # where
    assert "trực tuyến" in vi  # or online
    assert "một lần" in vi  # asked for once, in full
    assert "tính lại từ ngày cơ quan nhận đủ hồ sơ" in vi
    en = text("supplement_required", params, EN)
    assert "URGENT" not in en
    assert "Documents to add: Bản sao giấy chứng sinh" in en


def test_payment_shows_the_amount_with_each_language_grouping() -> None:
    params = notice_params(Status.PAYMENT_REQUIRED, fee={"amount": 1_500_000})
    vi = text("payment_required", params, VI)
    assert "1.500.000 đồng" in vi
    assert "nghĩa vụ tài chính" in vi and "tiền sử dụng đất" in vi  # not only fees
    assert "KHẨN" not in vi
    assert "Amount to pay: 1,500,000 VND" in text("payment_required", params, EN)


@pytest.mark.parametrize(
    ("status", "vi_words", "en_words"),
    [
        (Status.NOT_ACCEPTED, "không được UBND phường Bến Nghé tiếp nhận", "was not accepted"),
        (Status.STOPPED, "đã bị dừng xử lý", "has been stopped"),
        (Status.WITHDRAWN, "đã được rút theo đề nghị của ông/bà", "withdrawn at your request"),
    ],
)
def test_final_notices_say_no_more_notices_follow(
    status: Status, vi_words: str, en_words: str
) -> None:
    params = notice_params(status, note="Hồ sơ không đúng thẩm quyền")
    vi, en = text(status.value, params, VI), text(status.value, params, EN)
    assert vi_words in vi
    assert "Ông/bà sẽ không nhận thêm thông báo về hồ sơ này." in vi
    assert en_words in en
    assert "You will get no more notices about this dossier." in en
    (reply,) = RENDERERS.render(status.value, params, EN)
    assert [b.label for row in reply.buttons for b in row] == ["🔄 Refresh"]


def test_returned_does_not_promise_silence_before_the_survey() -> None:
    params = notice_params(Status.RETURNED)
    vi, en = text("returned", params, VI), text("returned", params, EN)
    assert "Ông/bà đã nhận kết quả hồ sơ" in vi
    assert "không nhận thêm thông báo" not in vi
    assert "khảo sát ngắn, không bắt buộc" in vi
    assert "no more notices" not in en


def test_refusal_and_stop_give_the_reason() -> None:
    params = notice_params(Status.STOPPED, note="Hồ sơ không đúng thẩm quyền")
    assert "Lý do: Hồ sơ không đúng thẩm quyền" in text("stopped", params, VI)
    assert "Reason: Hồ sơ không đúng thẩm quyền" in text("stopped", params, EN)


def test_extension_apologises_and_gives_old_and_new_dates() -> None:
    old_due, new_due = T0.replace(day=15), T0.replace(day=25)
    previous = Snapshot.of(dossier(Status.PROCESSING, due_at=old_due))
    outcome = apply_change(
        previous,
        dossier(
            Status.PROCESSING,
            due_at=new_due,
            original_due_at=old_due,
            note="Văn bản xin lỗi số 12/UBND",
        ),
        [ALICE],
        T0,
        RuleConfig(),
    )
    params = dict(outcome.notices[0].params)
    vi, en = text("extension", params, VI), text("extension", params, EN)
    assert "UBND phường Bến Nghé xin lỗi ông/bà vì chưa trả kết quả đúng hẹn" in vi
    assert "Ngày hẹn trả kết quả mới: 25/03/2025 (hẹn cũ: 15/03/2025)." in vi
    assert "Lý do chậm trả kết quả: Văn bản xin lỗi số 12/UBND" in vi
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in vi  # may ask for it in writing
    assert "phản ánh, kiến nghị" in vi
    assert "New appointment date: 25/03/2025 (previously 15/03/2025)." in en


def test_overdue_names_the_passed_date() -> None:
    snapshot = Snapshot.of(dossier(Status.PROCESSING, due_at=T0))
    (notice,) = overdue_notices(snapshot, [ALICE], T0 + timedelta(days=1))
    params = dict(notice.params)
    vi = text("overdue", params, VI)
    assert "đã quá ngày hẹn trả kết quả 14/03/2025" in vi
    assert "UBND phường Bến Nghé xin lỗi ông/bà" in vi
    assert "chưa thông báo ngày hẹn trả mới" in vi
    assert "liên hệ Bộ phận Một cửa – UBND phường Bến Nghé" in vi
    assert "sẽ được báo" not in vi and "will be told" not in text("overdue", params, EN)
    assert "appointment date 14/03/2025" in text("overdue", params, EN)


def test_reminder_repeats_the_pickup_details_and_the_ready_date() -> None:
    outcome = apply_change(
        Snapshot.of(dossier(Status.PROCESSING, status_changed_at=T0 - timedelta(days=1))),
        dossier(Status.READY, status_changed_at=LATER),
        [ALICE],
        T0,
        RuleConfig(),
    )
    reminder = next(n for n in outcome.notices if n.kind == "reminder")
    vi = text("reminder", dict(reminder.params), VI)
    assert "kết quả hồ sơ" in vi
    assert "đã có từ ngày 14/03/2025 nhưng ông/bà chưa đến nhận" in vi
    assert "Nơi nhận" in vi or "Quầy số 3" in vi
    en = text("reminder", dict(reminder.params), EN)
    assert "has been ready since 14/03/2025 and has not been collected yet" in en


@pytest.mark.parametrize("status", [Status.SUPPLEMENT_REQUIRED, Status.PAYMENT_REQUIRED])
def test_no_overdue_notice_while_the_office_waits_for_the_citizen(status: Status) -> None:
    # The processing time does not run while a supplement or a payment is awaited.
    snapshot = Snapshot.of(dossier(status, due_at=T0))
    assert overdue_notices(snapshot, [ALICE], T0 + timedelta(days=3)) == []
    assert not dossier(status, due_at=T0).is_overdue(T0 + timedelta(days=3))
