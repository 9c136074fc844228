"""The tests' look beneath the ports (`bot.storage.probe`) sees the same rows on the in-memory
twin, SQLite and PostgreSQL."""

from __future__ import annotations

from bot.ports import Bucket, Notice, OutboxState
from bot.storage import probe
from bot.storage.memory import MemoryUnitOfWorkFactory
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0

CODE = "000.00.15.H12-250310-0042"


async def test_rows_counts_and_changes_read_alike_everywhere(
    any_uow_factory: SqlUnitOfWorkFactory | MemoryUnitOfWorkFactory,
) -> None:
    store = any_uow_factory
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.subscriptions.subscribe(user.id, CODE, now=T0)
        for n in (1, 2):
            new = Notice(user.id, "reminder", f"k-{n}", dossier_code=CODE, params={"n": n})
            await uow.outbox.enqueue(new, now=T0)
        await uow.rate_limits.reserve([Bucket("pin-a:x", 5, 900)], now=T0)
        await uow.commit()

    rows = await probe.outbox_rows(store)
    assert [(r["dedup_key"], r["state"], r["params"]) for r in rows] == [
        ("k-1", "queued", {"n": 1}),
        ("k-2", "queued", {"n": 2}),
    ]
    assert rows[0]["user_id"] == user.id and rows[0]["created_at"] == T0
    changed = {"state": "dead", "attempts": 5, "last_error": "gave up"}
    assert await probe.update_outbox(store, changed, dedup_key="k-2") == 1
    [dead] = await probe.outbox_rows(store, state="dead")
    assert (dead["dedup_key"], dead["attempts"], dead["last_error"]) == ("k-2", 5, "gave up")
    async with any_uow_factory() as uow:
        counts = await uow.outbox.counts()
    assert (counts[OutboxState.QUEUED], counts[OutboxState.DEAD]) == (1, 1)

    subscription = await probe.subscription_row(store, user.id, CODE)
    assert (subscription["active"], subscription["ended_at"]) == (True, None)
    assert await probe.rate_limit_keys(store) == ["pin-a:x"]
    assert await probe.row_count(store, "chat_users") == 1
    assert await probe.row_count(store, "outbox") == 2
    assert await probe.row_count(store, "dossier_snapshots") == 0
