"""Feedback items with their threads, and unanswered messages: part of the conformance suite,
run on the in-memory twin, SQLite and PostgreSQL (`any_uow_factory`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.ports import UnitOfWorkFactory
from tests.storage.helpers import T0

AGENCY = "000.00.15.H12"


async def _user(factory: UnitOfWorkFactory) -> int:
    async with factory() as uow:
        user = await uow.users.get_or_create("zalo", "z-1", language="vi", now=T0)
        await uow.commit()
    return user.id


async def _add(factory: UnitOfWorkFactory, user_id: int | None, text: str, **more: object) -> int:
    values: dict[str, object] = {
        "channel": "zalo",
        "user_id": user_id,
        "agency_code": AGENCY,
        "procedure_code": "1.001",
        "kind": "feedback",
        "text": text,
        "language": "vi",
        "now": T0,
    }
    values.update(more)
    async with factory() as uow:
        number = await uow.feedback.add(**values)  # type: ignore[arg-type]
        await uow.commit()
    return number


async def test_a_feedback_item_with_its_thread_and_a_staff_reply(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    user_id = await _user(any_uow_factory)
    number = await _add(any_uow_factory, user_id, "Phòng chờ nóng quá")
    async with any_uow_factory() as uow:
        await uow.feedback.add_message(
            number,
            author="staff",
            text="Đã lắp thêm quạt.",
            now=T0 + timedelta(hours=2),
            staff_username="can.bo.a",
        )
        await uow.commit()
    async with any_uow_factory() as uow:
        item = await uow.feedback.get(number)
        thread = await uow.feedback.thread(number)
    assert item is not None
    assert (item.status, item.updated_at, item.user_id) == (
        "answered",
        T0 + timedelta(hours=2),
        user_id,
    )
    assert [(m.author, m.staff_username, m.text) for m in thread] == [
        ("citizen", None, "Phòng chờ nóng quá"),
        ("staff", "can.bo.a", "Đã lắp thêm quạt."),
    ]


async def test_lists_are_newest_first_and_filter(any_uow_factory: UnitOfWorkFactory) -> None:
    first = await _add(any_uow_factory, None, "một")
    second = await _add(any_uow_factory, None, "hai", now=T0 + timedelta(days=1), agency_code="X")
    third = await _add(any_uow_factory, None, "ba", now=T0 + timedelta(days=2), kind="complaint")
    async with any_uow_factory() as uow:
        assert await uow.feedback.set_status(third, "closed", now=T0 + timedelta(days=3))
        assert not await uow.feedback.set_status(9999, "closed", now=T0)
        await uow.commit()
    async with any_uow_factory() as uow:
        everything = [i.id for i in await uow.feedback.list_feedback()]
        of_agency = [i.id for i in await uow.feedback.list_feedback(agency_code=AGENCY)]
        recent = [i.id for i in await uow.feedback.list_feedback(since=T0 + timedelta(hours=1))]
        closed = [i.id for i in await uow.feedback.list_feedback(status="closed")]
        limited = [i.id for i in await uow.feedback.list_feedback(limit=1)]
    assert everything == [third, second, first]
    assert of_agency == [third, first]
    assert recent == [third, second]
    assert closed == [third]
    assert limited == [third]


async def test_unknown_kind_status_or_author_is_refused(any_uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(ValueError, match="kind"):
        await _add(any_uow_factory, None, "x", kind="praise")
    number = await _add(any_uow_factory, None, "x")
    async with any_uow_factory() as uow:
        with pytest.raises(ValueError, match="status"):
            await uow.feedback.set_status(number, "done", now=T0)
        with pytest.raises(ValueError, match="author"):
            await uow.feedback.add_message(number, author="bot", text="x", now=T0)


async def test_erasing_the_user_keeps_the_feedback_without_them(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    user_id = await _user(any_uow_factory)
    number = await _add(any_uow_factory, user_id, "Cán bộ nhiệt tình")
    async with any_uow_factory() as uow:
        await uow.users.erase(user_id)
        await uow.commit()
    async with any_uow_factory() as uow:
        item = await uow.feedback.get(number)
    assert item is not None and item.user_id is None and item.text == "Cán bộ nhiệt tình"


async def test_unanswered_messages_list_and_purge(any_uow_factory: UnitOfWorkFactory) -> None:
    async with any_uow_factory() as uow:
        for days, text in ((0, "cũ"), (20, "giữa"), (40, "mới")):
            await uow.feedback.add_unanswered(
                channel="telegram",
                language="vi",
                agency_code=AGENCY if days else None,
                text=text,
                now=T0 + timedelta(days=days),
            )
        await uow.commit()
    async with any_uow_factory() as uow:
        assert [m.text for m in await uow.feedback.list_unanswered()] == ["mới", "giữa", "cũ"]
        assert [m.text for m in await uow.feedback.list_unanswered(agency_code=AGENCY)] == [
            "mới",
            "giữa",
        ]
        removed = await uow.feedback.purge_unanswered(T0 + timedelta(days=10))
        await uow.commit()
    assert removed == 1
    async with any_uow_factory() as uow:
        since = await uow.feedback.list_unanswered(since=T0 + timedelta(days=30))
    assert [m.text for m in since] == ["mới"]


async def test_long_agency_and_procedure_codes_are_kept_cut_alike_everywhere(
    any_uow_factory: UnitOfWorkFactory,
) -> None:
    # Codes are plain strings in the contract: a 300-character one must not lose the
    # citizen's feedback (PostgreSQL refused it), and every storage keeps the same value.
    agency, procedure = "A" * 300, "P" * 300
    user_id = await _user(any_uow_factory)
    number = await _add(
        any_uow_factory, user_id, "góp ý", agency_code=agency, procedure_code=procedure
    )
    async with any_uow_factory() as uow:
        await uow.feedback.add_unanswered(
            channel="zalo", language="vi", agency_code=agency, text="?", now=T0
        )
        await uow.commit()
    async with any_uow_factory() as uow:
        item = await uow.feedback.get(number)
        unanswered = await uow.feedback.list_unanswered()
    assert item is not None
    assert item.agency_code == "A" * 63 + "…"
    assert item.procedure_code == "P" * 63 + "…"
    assert [m.agency_code for m in unanswered] == ["A" * 63 + "…"]
