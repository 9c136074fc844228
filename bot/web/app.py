"""The project's own web server: the operator's endpoints and the adapters' routes (webhooks)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import BaseRoute


def build_web_app(routes: Sequence[BaseRoute] = ()) -> Starlette:
    """A Starlette app serving `routes` (`bot.web.ops.ops_routes`, the adapters' webhooks)."""
    return Starlette(routes=list(routes))
