"""The workspace in ``motcua demo``: served on loopback with a fresh demo account, so a
newcomer can open it in a browser while chatting in the terminal."""

from __future__ import annotations

import contextlib
import errno
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.composition import Runtime
from bot.office.passwords import hash_password
from bot.office.wiring import workspace_routes
from bot.web.app import build_web_app
from bot.web.serve import serve_in_loop

DEMO_USERNAME = "demo"


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """Where the demo's workspace runs and how to sign in."""

    url: str
    username: str
    password: str

    def lines(self) -> list[str]:
        """What the demo prints about it (both languages)."""
        return [
            f"Trang làm việc của cán bộ / Officials' workspace: {self.url}/office/",
            f"  tài khoản / account: {self.username}   mật khẩu / password: {self.password}",
        ]


async def _demo_account(runtime: Runtime) -> tuple[str, str]:
    password = secrets.token_urlsafe(9)
    hashed = hash_password(password)
    now = runtime.clock.now()
    async with runtime.uow_factory() as uow:
        if await uow.staff.get(DEMO_USERNAME) is None:
            await uow.staff.add(
                DEMO_USERNAME, password_hash=hashed, role="admin", agencies=(), now=now
            )
        else:
            await uow.staff.set_password(DEMO_USERNAME, hashed, now=now)
        await uow.staff.audit("demo", "staff.add", DEMO_USERNAME, now=now, detail="admin")
        await uow.commit()
    return DEMO_USERNAME, password


@contextlib.asynccontextmanager
async def demo_workspace(runtime: Runtime, *, port: int) -> AsyncIterator[DemoWorkspace]:
    """Serve the workspace on 127.0.0.1:`port` (any free port if taken or 0) until the end."""
    username, password = await _demo_account(runtime)
    app = build_web_app(workspace_routes(runtime))
    try:
        server_cm = serve_in_loop(app, "127.0.0.1", port)
        server = await server_cm.__aenter__()
    except (OSError, SystemExit) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.EADDRINUSE:
            raise
        server_cm = serve_in_loop(app, "127.0.0.1", 0)
        server = await server_cm.__aenter__()
    try:
        yield DemoWorkspace(server.url, username, password)
    finally:
        await server_cm.__aexit__(None, None, None)
