"""The workspace wired from a runtime: its routes on the runtime's database and clock."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.composition import Runtime
from bot.office.app import office_config, office_routes
from bot.storage.uow import SqlUnitOfWorkFactory


def workspace_routes(runtime: Runtime) -> list[BaseRoute]:
    """``/office/…`` on `runtime`: changes through its unit of work, reports read-only."""
    reports = SqlUnitOfWorkFactory.for_reports(runtime.engine, runtime.clock)
    config = office_config(runtime.settings, server_secret=runtime.server_secret)
    return office_routes(runtime.uow_factory, reports, runtime.clock, config)
