"""Loopback servers for tests: every fake speaks real HTTP on 127.0.0.1."""

from bot.web.serve import RunningServer, free_port, serve_in_loop

__all__ = ["RunningServer", "free_port", "serve_in_loop"]
