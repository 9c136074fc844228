"""The feedback inbox over real HTTP: a manager answers a citizen's complaint, the reply joins
the thread and is queued for the citizen's chat as a `feedback_reply` notice; other agencies'
items answer 404; Zalo's 7-day window is explained; unanswered messages are grouped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.notify.feedback_reply import render_feedback_reply
from bot.notify.rendering import RenderContext
from bot.storage.engine import DatabaseEngine
from bot.storage.probe import outbox_rows
from tests.office.support import (
    AGENCY_A,
    AGENCY_B,
    NAME_A,
    Workspace,
    csrf_of,
    running_workspace,
    sign_in,
)


@pytest.fixture
async def workspace(engine: DatabaseEngine) -> AsyncIterator[Workspace]:
    async with running_workspace(engine) as running:
        yield running


async def _file(
    workspace: Workspace, channel: str, agency: str, text: str, *, age: timedelta = timedelta(0)
) -> tuple[int, int]:
    now = datetime.now(UTC) - age
    async with workspace.factory() as uow:
        user = await uow.users.get_or_create(
            channel, f"{channel}-{agency}-{text[:5]}", language="vi", now=now
        )
        item = await uow.feedback.add(
            channel=channel, user_id=user.id, agency_code=agency, procedure_code=None,
            kind="complaint", text=text, language="vi", now=now,
        )  # fmt: skip
        await uow.commit()
    return item, user.id


def client_for(workspace: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=workspace.url, follow_redirects=False, timeout=20)


async def test_a_manager_answers_and_the_reply_is_queued_for_the_citizen(
    workspace: Workspace,
) -> None:
    item, user_id = await _file(
        workspace, "telegram", AGENCY_A, "<script>x</script> Chờ 3 tuần chưa có kết quả"
    )
    other, _ = await _file(workspace, "telegram", AGENCY_B, "Phản ánh ở xã khác")
    async with client_for(workspace) as client:
        assert (await sign_in(client, "manager-a")).status_code == 303
        inbox = await client.get("/office/feedback")
        assert inbox.status_code == 200
        assert f'href="/office/feedback/{item}"' in inbox.text
        assert f'href="/office/feedback/{other}"' not in inbox.text
        assert "&lt;script&gt;x" in inbox.text and "<script>x" not in inbox.text
        assert (await client.get(f"/office/feedback/{other}")).status_code == 404
        page = await client.get(f"/office/feedback/{item}")
        assert page.status_code == 200 and NAME_A in page.text
        sent = await client.post(
            f"/office/feedback/{item}/reply",
            data={"csrf": csrf_of(page.text), "text": "Hồ sơ của ông/bà đã được chuyển xử lý gấp."},
        )
        assert sent.status_code == 303
        thread = await client.get(sent.headers["location"])
        assert "Chờ 3 tuần" in thread.text and "đã được chuyển xử lý gấp" in thread.text
        assert "manager-a" in thread.text and "đã trả lời" in thread.text
        closed = await client.post(
            f"/office/feedback/{item}/status",
            data={"csrf": csrf_of(thread.text), "status": "closed"},
        )
        assert closed.status_code == 303
    [row] = await outbox_rows(workspace.factory, kind="feedback_reply")
    assert row["user_id"] == user_id and row["state"] == "queued"
    [reply] = render_feedback_reply(row["params"], RenderContext("vi"))
    assert NAME_A in reply.text and f"số {item}" in reply.text
    assert reply.text.endswith("Hồ sơ của ông/bà đã được chuyển xử lý gấp.")
    async with workspace.factory() as uow:
        actions = [(e.action, e.target) for e in await uow.staff.audit_trail()]
        current = await uow.feedback.get(item)
    assert ("feedback.reply", f"feedback:{item}") in actions
    assert ("feedback.status", f"feedback:{item}") in actions
    assert current is not None and current.status == "closed"


async def test_viewers_read_but_do_not_answer(workspace: Workspace) -> None:
    item, _ = await _file(workspace, "telegram", AGENCY_A, "Góp ý về giờ làm việc")
    async with client_for(workspace) as client:
        assert (await sign_in(client, "viewer-a")).status_code == 303
        page = await client.get(f"/office/feedback/{item}")
        assert page.status_code == 200 and "Góp ý về giờ làm việc" in page.text
        assert "/reply" not in page.text
        refused = await client.post(
            f"/office/feedback/{item}/reply", data={"csrf": csrf_of(page.text), "text": "x"}
        )
        assert refused.status_code == 403
    assert await outbox_rows(workspace.factory, kind="feedback_reply") == []


async def test_zalo_outside_its_window_is_explained(workspace: Workspace) -> None:
    item, _ = await _file(workspace, "zalo", AGENCY_A, "Phản ánh qua Zalo", age=timedelta(days=9))
    async with client_for(workspace) as client:
        assert (await sign_in(client, "manager-a")).status_code == 303
        page = await client.get(f"/office/feedback/{item}")
        assert "trong vòng 7 ngày" in page.text


async def test_unanswered_messages_are_grouped(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    async with workspace.factory() as uow:
        for text in (
            "Mấy giờ mở cửa?",
            "mấy giờ  mở cửa?",
            "MẤY GIỜ MỞ CỬA?",
            "Có làm thứ bảy không",
        ):
            await uow.feedback.add_unanswered(
                channel="telegram", language="vi", agency_code=AGENCY_A, text=text, now=now
            )
        await uow.feedback.add_unanswered(
            channel="telegram", language="vi", agency_code=AGENCY_B, text="Xã B hỏi", now=now
        )
        await uow.feedback.add_unanswered(
            channel="telegram",
            language="vi",
            agency_code=AGENCY_A,
            text="Cũ rồi",
            now=now - timedelta(days=40),
        )
        await uow.commit()
    async with client_for(workspace) as client:
        assert (await sign_in(client, "viewer-a")).status_code == 303
        page = await client.get("/office/unanswered")
        assert page.status_code == 200
        rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
        assert "mấy giờ mở cửa?" in rows[0].casefold() and ">3<" in rows[0]
        assert "Xã B hỏi" not in page.text and "Cũ rồi" not in page.text
        assert (await client.get(f"/office/unanswered?agency={AGENCY_B}")).status_code == 404
