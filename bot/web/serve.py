"""Run an ASGI app on uvicorn inside the current event loop, on loopback or a given address."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A server started by `serve_in_loop`."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listening_socket(host: str) -> socket.socket:
    """A TCP socket bound to a port the kernel picks on `host`, for uvicorn to listen on."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # No SO_REUSEADDR: nobody else may bind this port until the server has closed it.
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    return sock


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the program embedding it, and stops
    as soon as it is asked to (`stop`) instead of at its next tenth-of-a-second tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self) -> None:
        """Ask the server to shut down now."""
        self.should_exit = True
        self._stop_requested.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, less its fixed tenth of a second of grace when nothing is left
        to finish: with no open connection and no running request there is nobody to give
        it to (the usual case when a program or a test stops its embedded server)."""
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)  # the graceful path, unchanged
            return
        # Nothing can be accepted between the check above and the close below (no await).
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def main_loop(self) -> None:
        """uvicorn's loop of ticks (the Date header, the request limit), woken by `stop`."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), 0.1)
            should_exit = await self.on_tick(counter)


@contextlib.asynccontextmanager
async def serve_in_loop(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> AsyncIterator[RunningServer]:
    """Serve `app` with uvicorn in this event loop until the block ends.

    `port=0` picks a free port. The server is listening when the block starts.
    """
    # With port 0 the listening socket is bound here and handed to uvicorn: the kernel's
    # choice is kept, so no other process (a parallel test worker, say) can take the port
    # between choosing it and listening on it, as it could with `free_port`.
    listener = _listening_socket(host) if port == 0 else None
    if listener is not None:
        port = int(listener.getsockname()[1])
    # log_config=None: uvicorn's records go to the root logger's handlers, through the
    # masking filter (`bot.logs`), instead of to a stderr handler of uvicorn's own.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        lifespan="on",
        access_log=False,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=None if listener is None else [listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise the start-up error
                raise RuntimeError("the web server stopped during start-up")
            await asyncio.sleep(0.01)
        yield RunningServer(host, port)
    finally:
        server.stop()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if listener is not None:
                listener.close()  # already closed by uvicorn unless start-up failed
