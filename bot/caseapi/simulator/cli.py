"""``motcua simulator``: serve the case API simulator, or move a dossier on a running one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import uvicorn

from bot import aio
from bot.caseapi.simulator.advance import Advancer
from bot.caseapi.simulator.app import create_app
from bot.caseapi.simulator.pusher import Pusher
from bot.caseapi.simulator.runner import build_state
from bot.domain.status import Status

DEFAULT_TOKEN = "dev-token"  # noqa: S105 - the documented development default
DEFAULT_URL = "http://127.0.0.1:8700"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulator`` command (and its ``move`` sub-command) to `subparsers`.

    Each parsed namespace carries ``run``, a coroutine function: ``await args.run(args,
    settings)`` gives the exit status (`settings` is not used: the token and URL come from
    the options, then the environment, as documented).
    """
    parser = subparsers.add_parser(
        "simulator",
        help="serve the case API simulator",
        description="Serve the case API simulator over a generated district-year of dossiers.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on")
    parser.add_argument(
        "--token", help=f"bearer token (default: $MOTCUA_CASE_API_TOKEN or {DEFAULT_TOKEN})"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    parser.add_argument("--dossiers", type=int, default=90_000, help="dossiers to generate")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="artificial delay of every /v1 request"
    )
    parser.add_argument("--push-url", help="POST signed change events to this URL")
    parser.add_argument("--push-secret", help="shared secret for the push signatures")
    parser.add_argument(
        "--advance-every",
        type=float,
        metavar="SECONDS",
        help="move a few open dossiers forward every SECONDS",
    )
    parser.set_defaults(run=serve_command)

    actions = parser.add_subparsers(dest="simulator_action", metavar="{move}")
    move = actions.add_parser(
        "move",
        help="move a dossier to a status on a running simulator",
        description="Move a dossier to STATUS through the admin endpoint of a running simulator.",
    )
    move.add_argument("code", help="dossier code, e.g. 000.00.15.H12-250618-0001")
    move.add_argument("status", choices=[s.value for s in Status], metavar="STATUS")
    move.add_argument("--note", help="note for the citizen (reason, what to bring…)")
    move.add_argument("--due-at", help="new appointment (RFC 3339) for an extension")
    move.add_argument(
        "--url", help=f"simulator URL (default: $MOTCUA_CASE_API_URL or {DEFAULT_URL})"
    )
    move.add_argument(
        "--token", help=f"bearer token (default: $MOTCUA_CASE_API_TOKEN or {DEFAULT_TOKEN})"
    )
    move.set_defaults(run=move_command)


def resolve_token(given: str | None) -> str:
    """The token to use: given, else $MOTCUA_CASE_API_TOKEN, else the development token."""
    return given or os.environ.get("MOTCUA_CASE_API_TOKEN") or DEFAULT_TOKEN


def resolve_url(given: str | None) -> str:
    """The simulator URL: given, else $MOTCUA_CASE_API_URL, else the local default."""
    return (given or os.environ.get("MOTCUA_CASE_API_URL") or DEFAULT_URL).rstrip("/")


# ---------------------------------------------------------------------- serve


class _Server(uvicorn.Server):
    """uvicorn, leaving SIGINT/SIGTERM to us so that a stop request exits with status 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_command(args: argparse.Namespace, settings: object = None) -> int:
    """Serve the simulator until Ctrl-C or SIGTERM."""
    if bool(args.push_url) != bool(args.push_secret):
        print("error: --push-url and --push-secret go together", file=sys.stderr)
        return 2
    await _serve(args)
    return 0


async def _serve(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    state = await asyncio.to_thread(build_state, args.seed, args.dossiers)
    elapsed = time.perf_counter() - started
    pusher = Pusher(args.push_url, args.push_secret) if args.push_url else None
    advancer = None
    if args.advance_every:
        advancer = Advancer(state, every=args.advance_every, seed=args.seed)
    app = create_app(
        state,
        resolve_token(args.token),
        latency=args.latency_ms / 1000,
        pusher=pusher,
        advancer=advancer,
    )
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_level="info", access_log=False, lifespan="on"
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, setattr, server, "should_exit", True)
    print(
        f"motcua simulator: {len(state):,} dossiers (seed {args.seed}) generated in "
        f"{elapsed:.1f} s; serving http://{args.host}:{args.port}"
        + (f", pushing to {args.push_url}" if pusher else "")
        + (f", advancing every {args.advance_every:g} s" if advancer else ""),
        flush=True,
    )
    try:
        await server.serve()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


# ---------------------------------------------------------------------- move


class MoveFailed(Exception):
    """The simulator refused the move or could not be reached."""


async def request_move(
    url: str,
    token: str,
    code: str,
    status: str,
    *,
    note: str | None = None,
    due_at: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Move `code` to `status` through the admin endpoint; the dossier JSON it answers."""
    body: dict[str, str] = {"status": status}
    if note is not None:
        body["note"] = note
    if due_at is not None:
        body["due_at"] = due_at
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
        try:
            response = await client.post(
                f"{url}/admin/dossiers/{code}/status",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise MoveFailed(f"cannot reach the simulator at {url} ({type(exc).__name__})") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        detail = answer.get("detail") if isinstance(answer, dict) else None
        text = ": ".join(str(part) for part in (error, detail) if part) or response.reason_phrase
        raise MoveFailed(f"HTTP {response.status_code} {text}")
    return answer


def describe(dossier: dict[str, Any]) -> str:
    """One line about a dossier (nothing private: no applicant, no PIN, no phone)."""
    line = (
        f"{dossier['code']}: {dossier['status']} ({dossier['status_code']}) "
        f"since {dossier['status_changed_at']}"
    )
    if dossier.get("due_at"):
        line += f", due {dossier['due_at']}"
    if dossier.get("note"):
        line += f" - {dossier['note']}"
    return line


async def move_command(args: argparse.Namespace, settings: object = None) -> int:
    """Move a dossier on a running simulator and print the outcome in one line."""
    try:
        dossier = await request_move(
            resolve_url(args.url),
            resolve_token(args.token),
            args.code,
            args.status,
            note=args.note,
            due_at=args.due_at,
        )
    except MoveFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(describe(dossier))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator command on its own (``python -m bot.caseapi.simulator``)."""
    parser = argparse.ArgumentParser(prog="motcua")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulator", *(sys.argv[1:] if argv is None else argv)])
    try:
        result: int = aio.run(args.run(args))
    except KeyboardInterrupt:
        return 130
    return result
