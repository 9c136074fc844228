"""Subscriptions: following, stopping, and the watcher's recipients_of query."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import UnitOfWorkFactory
from bot.storage.repositories import RECIPIENTS_OF
from bot.storage.tables import subscriptions
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.storage.helpers import T0, FakeClock, followers

CODE = "000.00.53.H48-220921-0099"
OTHER = "000.00.53.H48-220921-0100"


async def test_subscribe_is_idempotent(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.subscriptions.subscribe(user.id, CODE, now=T0)
        await uow.subscriptions.subscribe(user.id, CODE, now=T0 + timedelta(days=1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.subscriptions.is_subscribed(user.id, CODE)
        assert not await uow.subscriptions.is_subscribed(user.id, OTHER)
        assert await followers(uow, CODE) == [user.id]
    async with uow_factory.engine.connect() as conn:
        created_at = (
            await conn.execute(
                select(subscriptions.c.created_at).where(subscriptions.c.user_id == user.id)
            )
        ).scalar_one()
    assert created_at == T0  # the first subscribe stands


async def test_unsubscribe_and_resubscribe(engine: AsyncEngine) -> None:
    clock = FakeClock(T0 + timedelta(hours=3))
    factory = SqlUnitOfWorkFactory(engine, clock)
    async with factory() as uow:
        user = await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        await uow.subscriptions.subscribe(user.id, CODE, now=T0)
        assert await uow.subscriptions.unsubscribe(user.id, CODE) is True
        assert await uow.subscriptions.unsubscribe(user.id, CODE) is False
        assert await uow.subscriptions.unsubscribe(user.id, OTHER) is False
        assert not await uow.subscriptions.is_subscribed(user.id, CODE)
        assert await followers(uow, CODE) == []
        await uow.commit()
    async with engine.connect() as conn:
        ended = (
            await conn.execute(
                select(subscriptions.c.active, subscriptions.c.ended_at, subscriptions.c.end_reason)
            )
        ).one()
    assert tuple(ended) == (False, clock.now(), "user")

    async with factory() as uow:
        await uow.subscriptions.subscribe(user.id, CODE, now=T0 + timedelta(days=2))
        assert await uow.subscriptions.is_subscribed(user.id, CODE)
        await uow.commit()
    async with engine.connect() as conn:
        renewed = (
            await conn.execute(
                select(
                    subscriptions.c.created_at, subscriptions.c.ended_at, subscriptions.c.end_reason
                )
            )
        ).one()
    assert tuple(renewed) == (T0 + timedelta(days=2), None, None)


async def test_unsubscribe_all_counts_only_active(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        other = await uow.users.get_or_create("telegram", "2", language="vi", now=T0)
        for code in (CODE, OTHER, "000.00.53.H48-220921-0101"):
            await uow.subscriptions.subscribe(user.id, code, now=T0)
        await uow.subscriptions.subscribe(other.id, CODE, now=T0)
        await uow.subscriptions.unsubscribe(user.id, OTHER)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.subscriptions.unsubscribe_all(user.id) == 2
        assert await uow.subscriptions.unsubscribe_all(user.id) == 0
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await followers(uow, CODE) == [other.id]


async def test_recipients_of_lists_active_followers_blocked_ones_flagged(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        alice = await uow.users.get_or_create("telegram", "100", language="vi", now=T0)
        bob = await uow.users.get_or_create("zalo", "z-200", language="en", now=T0)
        carol = await uow.users.get_or_create("telegram", "300", language="vi", now=T0)
        dave = await uow.users.get_or_create("telegram", "400", language="vi", now=T0)
        for someone in (alice, bob, carol):
            await uow.subscriptions.subscribe(someone.id, CODE, now=T0)
        await uow.subscriptions.subscribe(dave.id, OTHER, now=T0)
        await uow.subscriptions.unsubscribe(carol.id, CODE)
        await uow.users.set_blocked(bob.id, True)
        await uow.commit()
    async with any_uow_factory() as uow:
        found = (await uow.subscriptions.recipients_of([CODE, OTHER, "nobody"]))[CODE]
        assert await followers(uow, "nobody-follows-this") == []
        assert await followers(uow, OTHER) == [dave.id]
    assert [(r.user_id, r.subscribed_at, r.blocked) for r in found] == [
        (alice.id, T0, False),
        (bob.id, T0, True),
    ]


async def test_end_for_dossiers_stops_every_follower(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        users = [
            await uow.users.get_or_create("telegram", str(n), language="vi", now=T0)
            for n in range(3)
        ]
        for user in users:
            await uow.subscriptions.subscribe(user.id, CODE, now=T0)
        await uow.subscriptions.subscribe(users[0].id, OTHER, now=T0)
        ended = await uow.subscriptions.end_for_dossiers(
            [CODE], reason="returned", now=T0 + timedelta(days=5)
        )
        assert ended == 3
        assert await uow.subscriptions.end_for_dossiers([], reason="returned", now=T0) == 0
        assert await followers(uow, CODE) == []
        assert await followers(uow, OTHER) == [users[0].id]
        await uow.commit()
    async with uow_factory.engine.connect() as conn:
        reasons = (
            await conn.execute(
                select(subscriptions.c.end_reason).where(subscriptions.c.dossier_code == CODE)
            )
        ).scalars()
        assert set(reasons) == {"returned"}


async def test_recipients_of_uses_the_partial_index(uow_factory: SqlUnitOfWorkFactory) -> None:
    """The watcher's query must be an index search, not a scan of every subscription."""
    async with uow_factory.engine.begin() as conn:
        sql = str(
            RECIPIENTS_OF.params(codes=[CODE]).compile(
                dialect=conn.dialect,
                compile_kwargs={"literal_binds": True, "render_postcompile": True},
            )
        )
        if conn.dialect.name == "sqlite":
            plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
            details = " | ".join(str(row[-1]) for row in plan)
        else:
            # A nearly empty table would be scanned anyway; ask for the plan without that bias.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = (await conn.exec_driver_sql(f"EXPLAIN {sql}")).all()
            details = " | ".join(str(row[0]) for row in plan)
    assert "ix_subscriptions_active_dossier_code" in details, details
