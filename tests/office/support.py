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

from bot.domain.pacing import ChannelLimit
from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.office.app import OfficeConfig, office_routes
from bot.office.auth import LoginLimits
from bot.office.passwords import hash_password
from bot.ports import Clock, DeliveryOutcome, Notice, OutboxState, SystemClock
from bot.storage.engine import DatabaseEngine
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.app import build_web_app
from surveys.definitions import default_catalog
from surveys.model import DossierFacts
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


async def seed(engine: DatabaseEngine, clock: Clock) -> None:
    """Accounts, survey answers, timeliness and pushes (see the module docstring), through
    the repositories as the bot and the watcher write them."""
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
    # Both pushes fail for good (the Bot API refused them).
    async with factory() as uow:
        claimed = await uow.outbox.claim(
            now=now,
            limits={"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)},
            token="seed",
            lease=timedelta(minutes=1),
        )
        assert len(claimed) == 2
        await uow.outbox.settle(
            [DeliveryOutcome(c, OutboxState.DEAD, error="ChannelError 400") for c in claimed],
            now=now,
        )
        await uow.commit()
    survey = default_catalog().default
    async with factory() as uow:
        citizen = await uow.users.get_or_create("telegram", "8999", language="vi", now=now)
        for agency, name, count, good in ((AGENCY_A, NAME_A, 40, 4), (AGENCY_B, NAME_B, 12, 5)):
            for i in range(count):
                code = f"{agency}-261020-{i:04d}"
                facts = DossierFacts(code, agency, name, "1.001234", "Đăng ký khai sinh", "Hộ tịch")
                key = await uow.surveys.start(
                    facts, survey_id=survey.id, user_id=citizen.id, now=now, expires_at=now,
                    tz=TZ,
                )  # fmt: skip
                quick = 3 if i % 4 else 1
                await uow.surveys.save_answer(key, survey.question("quick"), quick, now=now)
                for element in ELEMENTS:
                    low = agency == AGENCY_A and i % 4 == 0 and element == "staff"
                    # A's commenting citizen was unhappy with how their feedback was handled.
                    unhappy = agency == AGENCY_A and i == count - 1 and element == "feedback"
                    score = 2 if low else 3 if unhappy else good
                    await uow.surveys.save_answer(key, survey.question(element), score, now=now)
                if i == count - 1:
                    comment = SCRIPT_COMMENT if agency == AGENCY_A else B_COMMENT
                    await uow.surveys.save_answer(key, survey.question("comment"), comment, now=now)
                await uow.surveys.close(code)
        snapshots = []
        for i, (agency, name) in enumerate(((AGENCY_A, NAME_A), (AGENCY_B, NAME_B)) * 3):
            due = now - timedelta(days=3)
            returned = due + timedelta(days=(i % 3) - 1)  # early, on time, late
            snapshots.append(
                Snapshot(
                    code=f"{agency}-261001-{i:04d}",
                    status=Status.RETURNED,
                    status_changed_at=returned,
                    agency_code=agency,
                    agency_name=name,
                    procedure_code="1.001234",
                    procedure_name="Đăng ký khai sinh",
                    field="Hộ tịch",
                    received_at=due - timedelta(days=10),
                    due_at=due,
                    original_due_at=None,
                    returned_at=returned,
                    delivery="counter",
                )
            )
        await uow.watch.save_snapshots(snapshots, now=now)
        await uow.commit()


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
    engine: DatabaseEngine
    factory: SqlUnitOfWorkFactory


@contextlib.asynccontextmanager
async def running_workspace(engine: DatabaseEngine, **limits: int) -> AsyncIterator[Workspace]:
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
