"""Verified ownership of dossiers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.ports import UnitOfWorkFactory
from tests.storage.helpers import T0

OLD = "000.00.15.H12-240101-0001"
NEW = "000.00.15.H12-240105-0042"


async def test_add_and_is_owner(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "1", language="vi", now=T0)
        stranger = await uow.users.get_or_create("telegram", "2", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="pin", now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.owners.is_owner(user.id, OLD)
        assert not await uow.owners.is_owner(user.id, NEW)
        assert not await uow.owners.is_owner(stranger.id, OLD)


async def test_list_newest_first_with_subscription_flag(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "9", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="phone", now=T0)
        await uow.owners.add(user.id, NEW, method="deeplink", now=T0 + timedelta(days=1))
        await uow.subscriptions.subscribe(user.id, OLD, now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        owned = await uow.owners.list_for_user(user.id)
    assert [(o.dossier_code, o.method, o.subscribed) for o in owned] == [
        (NEW, "deeplink", False),
        (OLD, "phone", True),
    ]
    assert owned[0].verified_at == T0 + timedelta(days=1)


async def test_adding_again_is_idempotent_and_refreshes(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "9", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="pin", now=T0)
        await uow.owners.add(user.id, NEW, method="pin", now=T0 + timedelta(hours=1))
        await uow.owners.add(user.id, OLD, method="phone", now=T0 + timedelta(hours=2))
        await uow.commit()
    async with any_uow_factory() as uow:
        owned = await uow.owners.list_for_user(user.id)
    assert [(o.dossier_code, o.method) for o in owned] == [(OLD, "phone"), (NEW, "pin")]


async def test_unsubscribed_dossier_is_listed_as_not_subscribed(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "9", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="pin", now=T0)
        await uow.subscriptions.subscribe(user.id, OLD, now=T0)
        await uow.subscriptions.unsubscribe(user.id, OLD)
        owned = await uow.owners.list_for_user(user.id)
    assert [o.subscribed for o in owned] == [False]


async def test_unknown_method_is_refused(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "9", language="vi", now=T0)
        with pytest.raises(ValueError, match="verification method"):
            await uow.owners.add(user.id, OLD, method="guess", now=T0)


async def test_ownership_needs_an_existing_user(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.owners.add(999_999, OLD, method="pin", now=T0)


async def test_only_a_phone_proof_keeps_the_phone(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("zalo", "77", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="phone", now=T0, phone="+84912345678")
        await uow.owners.add(user.id, NEW, method="pin", now=T0)
        with pytest.raises(ValueError):
            await uow.owners.add(user.id, NEW, method="pin", now=T0, phone="+84912345678")
        await uow.commit()
    async with any_uow_factory() as uow:
        assert await uow.owners.verified_phone(user.id, OLD) == "+84912345678"
        assert await uow.owners.verified_phone(user.id, NEW) is None
        # proving it again by PIN later keeps the phone proven before
        await uow.owners.add(user.id, OLD, method="pin", now=T0 + timedelta(days=1))
        assert await uow.owners.verified_phone(user.id, OLD) == "+84912345678"


async def test_find_reports_the_subscription(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        user = await uow.users.get_or_create("telegram", "5", language="vi", now=T0)
        await uow.owners.add(user.id, OLD, method="pin", now=T0)
        await uow.owners.add(user.id, NEW, method="pin", now=T0)
        await uow.subscriptions.subscribe(user.id, NEW, now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        old, new = await uow.owners.find(user.id, OLD), await uow.owners.find(user.id, NEW)
        assert old is not None
        assert not old.subscribed
        assert new is not None
        assert new.subscribed
        assert await uow.owners.find(user.id, "000.00.15.H12-240101-9999") is None


async def test_user_and_ownership_in_one_read(any_uow_factory: UnitOfWorkFactory) -> None:
    """The lookup's read: the same user as get_or_create, with `find`'s answer for the code."""
    async with any_uow_factory() as uow:
        user, owned = await uow.users.get_or_create_with_ownership(
            "telegram", "6", OLD, language="en", now=T0
        )
        assert owned is None  # a new user owns nothing
        await uow.owners.add(user.id, OLD, method="pin", now=T0)
        await uow.owners.add(user.id, NEW, method="phone", now=T0, phone="+84912345678")
        await uow.subscriptions.subscribe(user.id, NEW, now=T0)
        stranger = await uow.users.get_or_create("telegram", "7", language="vi", now=T0)
        await uow.commit()
    later = T0 + timedelta(hours=2)
    async with any_uow_factory() as uow:
        for code in (OLD, NEW, "000.00.15.H12-240101-9999"):
            again, owned = await uow.users.get_or_create_with_ownership(
                "telegram", "6", code, language="vi", now=later
            )
            assert (again.id, again.language, again.last_seen_at) == (user.id, "en", later)
            assert owned == await uow.owners.find(user.id, code)
        assert (
            await uow.users.get_or_create_with_ownership(
                "telegram", "7", NEW, language="vi", now=later
            )
        )[1] is None
        assert stranger.id != user.id
