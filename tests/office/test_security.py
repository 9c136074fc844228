"""Who may see and do what in the workspace, over real HTTP on loopback.

Sessions, CSRF, the sign-in throttle, agency scoping (404 for another agency's data), roles
(viewers cannot retry pushes), escaping of citizens' words, the cookie's flags, the audit trail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.storage.engine import DatabaseEngine
from bot.storage.probe import outbox_rows
from tests.office.support import (
    AGENCY_A,
    AGENCY_B,
    NAME_A,
    NAME_B,
    PASSWORD,
    Workspace,
    csrf_of,
    running_workspace,
    sign_in,
)

PAGES = [
    "/office/",
    "/office/satisfaction.csv",
    "/office/comments",
    "/office/feedback",
    "/office/unanswered",
    "/office/delivery",
    "/office/usage",
]


@pytest.fixture
async def workspace(engine: DatabaseEngine) -> AsyncIterator[Workspace]:
    async with running_workspace(engine) as running:
        yield running


def client_for(workspace: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=workspace.url, follow_redirects=False, timeout=20)


async def _dead_states(engine: DatabaseEngine) -> dict[str, str]:
    return {row["dossier_code"].split("-")[0]: row["state"] for row in await outbox_rows(engine)}


async def test_every_page_without_a_session_leads_to_the_sign_in(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        for page in PAGES:
            answer = await client.get(page)
            assert answer.status_code == 303, page
            assert answer.headers["location"].startswith("/office/login?next="), page
        assert (await client.get("/office")).status_code == 307
        form = await client.get("/office/login")
        assert form.status_code == 200
        assert 'name="username"' in form.text and 'name="password"' in form.text
        # A POST without a session is refused before anything else (no CSRF token).
        assert (await client.post("/office/delivery/retry", data={})).status_code == 303


async def test_the_session_cookie_is_signed_httponly_and_samesite(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        answer = await sign_in(client, "admin")
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"].lower()
        assert "motcua_office=" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/office" in cookie
        assert (await client.get("/office/")).status_code == 200
        # A tampered cookie is not a session.
        value = client.cookies["motcua_office"]
        client.cookies.clear()
        client.cookies.set("motcua_office", value[:-3] + "abc", path="/office")
        assert (await client.get("/office/")).status_code == 303


async def test_forms_without_a_valid_csrf_token_get_403(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        await client.get("/office/login")
        refused = await client.post(
            "/office/login", data={"username": "admin", "password": PASSWORD}
        )
        assert refused.status_code == 403
        refused = await client.post(
            "/office/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"}
        )
        assert refused.status_code == 403
        assert (await sign_in(client, "manager-a")).status_code == 303
        for data in ({}, {"csrf": "forged"}):
            assert (await client.post("/office/delivery/retry", data=data)).status_code == 403
            assert (await client.post("/office/logout", data=data)).status_code == 403
    assert await _dead_states(workspace.engine) == {AGENCY_A: "dead", AGENCY_B: "dead"}


async def test_repeated_wrong_passwords_are_throttled(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        for _ in range(4):
            answer = await sign_in(client, "viewer-a", "wrong password!")
            assert answer.status_code == 401
            assert "không đúng" in answer.text
        # Over the limit: refused without checking, even with the right password.
        answer = await sign_in(client, "viewer-a")
        assert answer.status_code == 429
        assert "Đăng nhập sai quá nhiều lần" in answer.text
        # Another account from the same address is not locked by it.
        assert (await sign_in(client, "manager-a")).status_code == 303
    async with workspace.factory() as uow:
        actions = [entry.action for entry in await uow.staff.audit_trail()]
    assert actions.count("login.failed") == 4
    assert "login.throttled" in actions


async def test_a_viewer_sees_only_their_agency(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        assert (await sign_in(client, "viewer-a")).status_code == 303
        page = await client.get("/office/")
        assert page.status_code == 200
        assert NAME_A in page.text
        assert NAME_B not in page.text
        for url in (
            f"/office/?agency={AGENCY_B}",
            f"/office/satisfaction.csv?agency={AGENCY_B}",
            f"/office/comments?agency={AGENCY_B}",
            f"/office/usage?agency={AGENCY_B}",
            f"/office/feedback?agency={AGENCY_B}",
        ):
            assert (await client.get(url)).status_code == 404, url
        csv = await client.get("/office/satisfaction.csv")
        assert AGENCY_A in csv.text and AGENCY_B not in csv.text
        comments = await client.get("/office/comments")
        assert "Tân Phú rất nhiệt tình" not in comments.text
        # Viewers read; they do not retry pushes.
        token = csrf_of(page.text)
        assert (await client.get("/office/delivery")).status_code == 403
        retry = await client.post("/office/delivery/retry", data={"csrf": token})
        assert retry.status_code == 403
    assert await _dead_states(workspace.engine) == {AGENCY_A: "dead", AGENCY_B: "dead"}


async def test_a_manager_retries_only_their_agencys_dead_pushes(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        assert (await sign_in(client, "manager-a")).status_code == 303
        page = await client.get("/office/delivery")
        assert page.status_code == 200
        assert "ChannelError 400" in page.text
        answer = await client.post("/office/delivery/retry", data={"csrf": csrf_of(page.text)})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/office/delivery?requeued=1"
    assert await _dead_states(workspace.engine) == {AGENCY_A: "queued", AGENCY_B: "dead"}
    async with workspace.factory() as uow:
        [entry] = [e for e in await uow.staff.audit_trail() if e.action == "outbox.requeue_dead"]
    assert entry.username == "manager-a"
    assert entry.target == AGENCY_A
    assert entry.detail == "1 pushes"


async def test_a_comment_with_a_script_is_shown_as_text_with_digits_masked(
    workspace: Workspace,
) -> None:
    async with client_for(workspace) as client:
        assert (await sign_in(client, "admin")).status_code == 303
        page = await client.get("/office/comments")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(" in page.text
        assert "0912" not in page.text and "345 678" not in page.text
        assert "Chờ lâu quá" in page.text
        assert "Tân Phú rất nhiệt tình" in page.text  # the admin sees every agency


async def test_signing_out_ends_the_session(workspace: Workspace) -> None:
    async with client_for(workspace) as client:
        assert (await sign_in(client, "admin")).status_code == 303
        page = await client.get("/office/usage")
        kept = client.cookies["motcua_office"]
        answer = await client.post("/office/logout", data={"csrf": csrf_of(page.text)})
        assert answer.status_code == 303
        client.cookies.clear()
        client.cookies.set("motcua_office", kept, path="/office")  # a copy of the old cookie
        assert (await client.get("/office/")).status_code == 303
