"""Helpers shared by the watcher's tests: dossiers, a clock, subscribers, outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.dossier import Dossier
from bot.domain.status import Status
from bot.ports import UnitOfWorkFactory
from bot.storage import probe
from tests.notify.outbox_support import Store

T0 = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
CODE = "000.00.15.H12-250310-0042"


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def dossier(status: Status = Status.RECEIVED, **changes: Any) -> Dossier:
    """A coherent dossier in `status`; keyword arguments override any field."""
    data: dict[str, Any] = {
        "code": CODE,
        "status": status.value,
        "status_code": status.code,
        "status_changed_at": T0,
        "procedure": {"code": "1.001", "name": "Đăng ký khai sinh", "field": "Hộ tịch"},
        "agency": {"code": "000.00.15.H12", "name": "UBND phường Bến Nghé"},
        "applicant": {"name": "Nguyễn Văn An"},
        "received_at": T0 - timedelta(days=5),
        "due_at": T0 + timedelta(days=3),
        "original_due_at": None,
        "returned_at": None,
        "delivery": "counter",
        "pickup": None,
        "fee": None,
        "note": None,
    }
    if status is Status.READY:
        data["pickup"] = {"place": "Quầy số 3, 45 Lê Duẩn", "hours": "7:30–11:30, 13:30–17:00"}
    data.update(changes)
    return Dossier.model_validate(data)


async def add_subscriber(
    factory: UnitOfWorkFactory,
    code: str,
    *,
    channel_user_id: str = "1001",
    language: str = "vi",
    at: datetime = T0 - timedelta(days=1),
    blocked: bool = False,
) -> int:
    """A verified owner following `code`; their user id."""
    async with factory() as uow:
        user = await uow.users.get_or_create("telegram", channel_user_id, language=language, now=at)
        await uow.owners.add(user.id, code, method="pin", now=at)
        await uow.subscriptions.subscribe(user.id, code, now=at)
        if blocked:
            await uow.users.set_blocked(user.id, True)
        await uow.commit()
    return user.id


async def outbox_rows(engine: Store, **where: Any) -> list[dict[str, Any]]:
    """The outbox rows (as dicts) matching `where` column values, oldest first."""
    return await probe.outbox_rows(engine, **where)


async def subscription_row(engine: Store, user_id: int, code: str) -> dict[str, Any]:
    """The subscription row of `user_id` for `code`."""
    return await probe.subscription_row(engine, user_id, code)
