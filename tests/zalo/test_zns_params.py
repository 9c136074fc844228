"""ZNS template parameters are the Vietnamese a citizen reads, never the case API's codes."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.channels.zalo.zns import template_data
from bot.domain.status import Status
from bot.notify.rules import STATUS_NOTICES, Recipient, RuleConfig, Snapshot, apply_change
from bot.push import PushDetails
from tests.notify.watch_support import CODE, T0, dossier

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ALICE = Recipient(user_id=1, subscribed_at=T0 - timedelta(days=2))


def _params(status: Status, **changes: object) -> dict[str, object]:
    previous = Snapshot.of(dossier(Status.PROCESSING, status_changed_at=T0 - timedelta(days=1)))
    outcome = apply_change(
        previous, dossier(status, status_changed_at=T0, **changes), [ALICE], T0, RuleConfig()
    )
    return dict(outcome.notices[0].params)


@pytest.mark.parametrize("status", sorted(STATUS_NOTICES, key=lambda s: s.code))
def test_no_english_code_reaches_a_template(status: Status) -> None:
    params = _params(status, fee={"amount": 50000}, note="Bản sao giấy khai sinh")
    data = template_data(PushDetails(1, status.value, CODE, params), TZ)
    values = {str(v) for v in data.values()}
    assert not values & {s.value for s in Status}
    assert not values & {"counter", "post", "VND"}


def test_status_delivery_and_dates_in_vietnamese() -> None:
    params = _params(Status.READY, delivery="post", pickup=None)
    data = template_data(PushDetails(1, "ready", CODE, params), TZ)
    assert data["status"] == "Đã có kết quả, chờ trả"
    assert data["delivery"] == "Qua dịch vụ bưu chính công ích"
    assert data["ready_at"] == "14/03/2025"
    counter = template_data(PushDetails(1, "ready", CODE, _params(Status.READY)), TZ)
    assert counter["delivery"] == "Nhận trực tiếp tại Bộ phận Một cửa"
    supplement = template_data(
        PushDetails(1, "supplement_required", CODE, _params(Status.SUPPLEMENT_REQUIRED)), TZ
    )
    assert supplement["status"] == "Yêu cầu bổ sung hồ sơ"
    payment = template_data(
        PushDetails(
            1, "payment_required", CODE, _params(Status.PAYMENT_REQUIRED, fee={"amount": 50000})
        ),
        TZ,
    )
    assert payment["status"] == "Yêu cầu thực hiện nghĩa vụ tài chính"
    assert payment["fee"] == 50000 and payment["currency"] == "đồng"
