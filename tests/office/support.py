"""Data and a running workspace for the office tests.

Two agencies, A and B, with survey responses, a written comment each (A's carries a phone
number and a `<script>`), returned dossiers for timeliness, and dead pushes for both; four
staff accounts (an admin, a viewer and a manager of A, a manager of B).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.office.app import OfficeConfig, office_routes
from bot.office.auth import LoginLimits
from bot.office.passwords import hash_password
from bot.ports import Clock, Notice, SystemClock
from bot.storage.tables_outbox import outbox
from bot.storage.tables_watch import dossier_snapshots
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.app import build_web_app
from surveys.storage.tables import survey_answers, survey_responses
from tests.support.servers import serve_in_loop

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY_A = "000.00.15.H12"
AGENCY_B = "000.00.53.H48"
NAME_A = "UBND phường Bến Nghé"
NAME_B = "UBND xã Tân Phú"
PASSWORD = "correct horse battery"
SCRIPT_COMMENT = "<script>alert('x')</script> Chờ lâu quá, gọi 0912 345 678 không ai nghe"
B_COMMENT = "Cán bộ xã Tân Phú rất nhiệt tình"
ELEMENTS = ("access", "procedure", "staff", "result", "feedback")

ACCOUNTS = {
    "admin": ("admin", ()),
    "viewer-a": ("viewer", (AGENCY_A,)),
    "manager-a": ("manager", (AGENCY_A,)),
    "manager-b": ("manager", (AGENCY_B,)),
}


def this_month(clock: Clock) -> int:
    local = clock.now().astimezone(TZ)
    return local.year * 100 + local.month


async def seed(engine: AsyncEngine, clock: Clock) -> None:
    """Accounts, survey answers, timeliness and pushes (see the module docstring)."""
    factory = SqlUnitOfWorkFactory(engine, clock)
    now = clock.now()
    hashed = hash_password(PASSWORD)
    async with factory() as uow:
        for username, (role, agencies) in ACCOUNTS.items():
            await uow.staff.add(
                username, password_hash=hashed, role=role, agencies=agencies, now=now
            )
        users = [
            await uow.users.get_or_create("telegram", str(9000 + i), language="vi", now=now)
            for i in range(2)
        ]
        for i, (agency, user) in enumerate(((AGENCY_A, users[0]), (AGENCY_B, users[1]))):
            code = f"{agency}-261101-{i:04d}"
            await uow.outbox.enqueue(
                Notice(user_id=user.id, kind="ready", dedup_key=f"dead-{i}", dossier_code=code),
                now=now,
            )
        await uow.commit()
    month = this_month(clock)
    responses = []
    answers = []
    response_id = 0
    for agency, name, count, good in ((AGENCY_A, NAME_A, 40, 4), (AGENCY_B, NAME_B, 12, 5)):
        for i in range(count):
            response_id += 1
            common = {
                "agency_code": agency,
                "procedure_code": "1.001234",
                "field": "Hộ tịch",
                "period_month": month,
            }
            responses.append(
                {
                    "id": response_id,
                    "dossier_key": f"{agency}-{i:04d}".encode().hex()[:64],
                    "survey_id": "default",
                    "agency_code": agency,
                    "agency_name": name,
                    "procedure_code": "1.001234",
                    "procedure_name": "Đăng ký khai sinh",
                    "field": "Hộ tịch",
                    "period_month": month,
                }
            )
            answers.append(
                {"response_id": response_id, "question_id": "quick", "kind": "rating3",
                 "element": None, "score": 3 if i % 4 else 1, **common}
            )  # fmt: skip
            for element in ELEMENTS:
                low = agency == AGENCY_A and i % 4 == 0 and element == "staff"
                # A's commenting citizen was unhappy with how their feedback was handled.
                unhappy = agency == AGENCY_A and i == count - 1 and element == "feedback"
                score = 2 if low else 3 if unhappy else good
                answers.append(
                    {"response_id": response_id, "question_id": element, "kind": "scale5",
                     "element": element, "score": score, **common}
                )  # fmt: skip
        answers.append(
            {"response_id": response_id, "question_id": "comment", "kind": "text",
             "element": None, "score": None,
             "comment": SCRIPT_COMMENT if agency == AGENCY_A else B_COMMENT, **common}
        )  # fmt: skip
    snapshots = []
    for i, (agency, name) in enumerate(((AGENCY_A, NAME_A), (AGENCY_B, NAME_B)) * 3):
        due = now - timedelta(days=3)
        returned = due + timedelta(days=(i % 3) - 1)  # early, on time, late
        snapshots.append(
            {
                "code": f"{agency}-261001-{i:04d}",
                "status": "returned",
                "status_code": 10,
                "status_changed_at": returned,
                "agency_code": agency,
                "agency_name": name,
                "procedure_code": "1.001234",
                "procedure_name": "Đăng ký khai sinh",
                "field": "Hộ tịch",
                "received_at": due - timedelta(days=10),
                "due_at": due,
                "original_due_at": None,
                "returned_at": returned,
                "delivery": "counter",
                "updated_at": now,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(survey_responses), responses)
        for row in answers:
            row.setdefault("comment", None)
            row.setdefault("choice", None)
        await conn.execute(insert(survey_answers), answers)
        await conn.execute(insert(dossier_snapshots), snapshots)
        await conn.execute(
            update(outbox).values(state="dead", attempts=5, last_error="ChannelError 400")
        )


def office_config(**limits: int) -> OfficeConfig:
    """The workspace's settings for tests."""
    return OfficeConfig(
        session_secret="office-test-secret",
        session_ttl=timedelta(hours=1),
        secure_cookie=False,
        tz=TZ,
        login_limits=LoginLimits(**{"per_account": 4, "per_address": 50, **limits}),
        server_secret="office-test-server-secret",
    )


@dataclass
class Workspace:
    """A running workspace on a seeded database."""

    url: str
    engine: AsyncEngine
    factory: SqlUnitOfWorkFactory


@contextlib.asynccontextmanager
async def running_workspace(engine: AsyncEngine, **limits: int) -> AsyncIterator[Workspace]:
    """The web app with the workspace's routes on loopback, over a seeded database."""
    clock = SystemClock()
    await seed(engine, clock)
    factory = SqlUnitOfWorkFactory(engine, clock)
    reports = SqlUnitOfWorkFactory.for_reports(engine, clock)
    app = build_web_app(office_routes(factory, reports, clock, office_config(**limits)))
    async with serve_in_loop(app) as server:
        yield Workspace(server.url, engine, factory)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    """Open the sign-in form (for its CSRF token) and post the credentials."""
    form = await client.get("/office/login")
    token = csrf_of(form.text)
    return await client.post(
        "/office/login",
        data={"username": username, "password": password, "csrf": token, "next": "/office/"},
    )


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def now_utc() -> datetime:
    return datetime.now(UTC)
