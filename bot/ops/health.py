"""Liveness and readiness, as ``/healthz`` and ``/readyz`` report them.

Liveness: the event loop answers (nothing else: a dead case system or database is not a
reason to restart this process). Readiness: the database answers and its schema is at the
head this motcua ships; the case API's circuit breaker is reported, and fails readiness only
when the operator asks for it (``MOTCUA_READY_REQUIRES_CASE_API``) — a load balancer that
takes every replica out while the case system is down would also stop citizens' messages
being answered ("the case system is unavailable, we will tell you").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.storage.readiness import SchemaStatus
from bot.version import version

# How long /readyz waits for the database before calling it down.
DATABASE_CHECK_TIMEOUT = 3.0


@dataclass
class HealthChecks:
    """What the health endpoints ask."""

    schema: Callable[[], Awaitable[SchemaStatus]]
    breaker_state: Callable[[], str] | None = None
    require_case_api: bool = False

    def liveness(self) -> dict[str, Any]:
        """The body of ``/healthz``."""
        return {"status": "ok", "version": version()}

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether this process should get traffic, and the body of ``/readyz``."""
        body: dict[str, Any] = {"version": version()}
        ready = True
        try:
            async with asyncio.timeout(DATABASE_CHECK_TIMEOUT):
                report = await self.schema()
        except Exception as error:
            ready = False
            body["database"] = {"status": "down", "error": type(error).__name__}
        else:
            at_head = report.at_head
            ready = at_head
            body["database"] = {
                "status": "ok" if at_head else "migrations pending",
                "revision": ", ".join(report.current) or None,
                "head": ", ".join(report.head),
            }
        if self.breaker_state is not None:
            state = self.breaker_state()
            body["case_api"] = {"breaker": state, "required": self.require_case_api}
            if self.require_case_api and state == "open":
                ready = False
        body["status"] = "ready" if ready else "not ready"
        return ready, body
