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
import subprocess
import sys
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


def test_the_interactive_demo_has_line_editing(tmp_path: Path) -> None:
    """On a terminal, the arrow keys move the cursor (readline) instead of printing ^[[D."""
    import pty
    import select
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(PYTHONPATH=str(ROOT), MOTCUA_DATA_DIR=str(tmp_path), TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the demo on the pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-m", "bot", "demo", "--dossiers", "2000"], env)
    seen = b""

    def read_until(marker: bytes, within: float, start: int = 0) -> None:
        nonlocal seen
        deadline = time.monotonic() + within
        while marker not in seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, seen.decode(errors="replace")[-2000:]
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:  # the child closed the terminal
                    return

    prompt = "👤 ".encode()
    status = None
    try:
        read_until(prompt, within=120)
        # "/lan en", three times ←, "g", Enter: "/lang en" only if the arrows move the cursor.
        os.write(fd, b"/lan en\x1b[D\x1b[D\x1b[Dg\r")
        answer = b"I will speak English with you from now on."
        read_until(answer, within=60)
        read_until(prompt, within=60, start=seen.index(answer))  # reading again
        os.write(fd, b"\x04")  # Ctrl-D leaves
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            else:
                read_until(b"", within=1)  # keep the terminal drained
                time.sleep(0.05)
    finally:
        if status is None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        os.close(fd)
    assert status is not None, "Ctrl-D did not end the demo"
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"^[[D" not in seen
