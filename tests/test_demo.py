"""``motcua demo``: the whole product in a terminal, pickup notice included.

The scripted tour is run as a newcomer would run it (the real command, in a subprocess): it
follows a dossier with the receipt PIN, moves it to "ready" with ``/simulate ready`` in the
simulated case system, and the pickup notice arrives in the same terminal, pushed by the
watcher and the dispatcher with the console as their channel.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from bot.channels.console import ConsoleChat, ConsoleSender
from bot.demo import Simulate
from bot.domain.status import Status
from bot.messages import Incoming, Reply, Response

ROOT = Path(__file__).resolve().parents[1]


def test_the_scripted_tour_follows_a_dossier_and_the_pickup_notice_arrives(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(PYTHONPATH=str(ROOT), MOTCUA_DATA_DIR="relative-data")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--script", "--dossiers", "3000"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    # The data folder, absolute, first.
    assert out.splitlines()[0] == f"Dữ liệu / data: {tmp_path / 'relative-data' / 'demo'}"
    # Sample codes with their status in words, PIN and phone number.
    assert "Đang xử lý, mã PIN" in out and "điện thoại +84" in out
    assert "supplement_required" not in out.split("👤", 1)[0]
    # The followed dossier moves; the notice is pushed (🔔), not an answer (🤖).
    moved = out.index("👤 /simulate ready")
    after = out[moved:]
    assert "⚙ Hệ thống một cửa mô phỏng: hồ sơ" in after
    notice = after[after.index("\n🔔 ") :]
    assert "đã có kết quả" in notice[:400]
    assert "Traceback" not in done.stderr


class _Core:
    async def __call__(self, incoming: Incoming) -> Response:
        return Response.of(Reply(f"echo {incoming.text}"))


async def test_the_console_shows_pushes_as_they_come() -> None:
    screen = io.StringIO()
    chat = ConsoleChat(_Core(), screen)
    sender = ConsoleSender(chat)
    redrawn: list[bool] = []
    sender.after_push = lambda: redrawn.append(True)
    await sender.send("citizen", [Reply("Hồ sơ đã có kết quả")])
    assert await sender.wait_for(1, within=1)
    assert "🔔 Hồ sơ đã có kết quả" in screen.getvalue()
    assert redrawn == [True]
    assert not await sender.wait_for(2, within=0.05)


def test_simulate_moves_the_last_dossier_mentioned_in_words_or_numbers() -> None:
    moves: list[tuple[str, Status]] = []
    screen = io.StringIO()
    simulate = Simulate(lambda code, status: moves.append((code, status)), screen)
    code = "000.00.53.H48-220921-0099"
    assert simulate.handles("/simulate ready") and not simulate.handles("/start")
    assert not simulate.run("/simulate ready", "vi")  # no dossier mentioned yet
    assert "Cách dùng: /simulate" in screen.getvalue()
    simulate.noticed(f"hồ sơ {code} xong chưa?")
    assert simulate.run("/simulate ready", "vi")
    assert simulate.run(f"/simulate {code} 10", "en")
    assert not simulate.run("/simulate ready-ish", "en")
    assert moves == [(code, Status.READY), (code, Status.RETURNED)]
    assert "Đã có kết quả, chờ trả" in screen.getvalue()


class Terminal:
    """The interactive demo on a pseudo-terminal, as a citizen would use it."""

    PROMPT = "👤 ".encode()

    def __init__(self, data_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
        env.update(PYTHONPATH=str(ROOT), MOTCUA_DATA_DIR=str(data_dir), TERM="xterm")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the demo on the pseudo-terminal
            os.execve(
                sys.executable, [sys.executable, "-m", "bot", "demo", "--dossiers", "2000"], env
            )
        self.seen = b""
        self.status: int | None = None

    def read_until(self, marker: bytes, within: float, start: int = 0) -> None:
        deadline = time.monotonic() + within
        while marker not in self.seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, self.seen.decode(errors="replace")[-2000:]
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    return

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, within: float = 60) -> int:
        deadline = time.monotonic() + within
        while self.status is None and time.monotonic() < deadline:
            done, code = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(code)
            else:
                time.sleep(0.05)
        assert self.status is not None, "the demo did not end"
        return self.status

    def close(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_the_interactive_demo_has_line_editing_and_ctrl_d_leaves(tmp_path: Path) -> None:
    """On a terminal, the arrow keys move the cursor (readline) instead of printing ^[[D."""
    terminal = Terminal(tmp_path)
    try:
        terminal.read_until(Terminal.PROMPT, within=120)
        # "/lan en", three times ←, "g", Enter: "/lang en" only if the arrows move the cursor.
        terminal.type(b"/lan en\x1b[D\x1b[D\x1b[Dg\r")
        answer = b"I will speak English with you from now on."
        terminal.read_until(answer, within=60)
        terminal.read_until(Terminal.PROMPT, within=60, start=terminal.seen.index(answer))
        terminal.type(b"\x04")  # Ctrl-D leaves
        assert terminal.exit_code() == 0
    finally:
        terminal.close()
    assert b"^[[D" not in terminal.seen


def test_ctrl_c_at_the_demo_prompt_ends_it_and_restores_the_terminal(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    try:
        terminal.read_until(Terminal.PROMPT, within=120)
        terminal.type(b"half a line\x03")  # Ctrl-C while typing
        assert terminal.exit_code() == 130
        attributes = termios.tcgetattr(terminal.fd)
    finally:
        terminal.close()
    local_modes = attributes[3]
    assert local_modes & termios.ECHO and local_modes & termios.ICANON
    assert b"Traceback" not in terminal.seen
