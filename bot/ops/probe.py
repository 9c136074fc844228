"""``motcua healthcheck``: ask this machine's motcua whether it is alive (or ready).

The container's ``HEALTHCHECK`` runs it (the slim image has no curl). It calls
``/healthz`` (or ``/readyz`` with ``--ready``) on the port of ``MOTCUA_HTTP_PORT``, on
loopback when the server listens on every address, and exits 0 when the answer is 200, else
1 with one line saying why.
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx

from bot.errors import OperatorError
from bot.settings import Settings

ANY_ADDRESS = ("0.0.0.0", "::", "")


def add_parser(commands: Any) -> None:
    """Add ``motcua healthcheck``."""
    parser = commands.add_parser(
        "healthcheck", help="exit 0 if the motcua serving here is alive (--ready: ready)"
    )
    parser.add_argument("--ready", action="store_true", help="ask /readyz instead of /healthz")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (5)")
    parser.set_defaults(run=healthcheck)


def probe_url(settings: Settings, *, ready: bool) -> str:
    """The health URL of the local server."""
    host = "127.0.0.1" if settings.http_host in ANY_ADDRESS else settings.http_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}/{'readyz' if ready else 'healthz'}"


def healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``motcua healthcheck``."""
    url = probe_url(settings, ready=args.ready)
    try:
        # Loopback: never through a proxy.
        answer = httpx.get(url, timeout=args.timeout, trust_env=False)
    except httpx.HTTPError as error:
        raise OperatorError(f"{url}: no answer ({type(error).__name__})") from None
    if answer.status_code != 200:
        raise OperatorError(f"{url}: {answer.status_code} {answer.text[:200]}")
    print(answer.text)
    return 0
