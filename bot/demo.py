"""``motcua demo``: the whole product in a terminal — the case API simulator, SQLite, a chat,
and the watcher and dispatcher with the terminal as a channel.

A citizen who confirms a dossier there is told, in the same terminal (🔔), when it changes:
``/simulate ready`` (or any status, in words or as the portal's number) moves the dossier
last mentioned in the simulated case system, and the simulator also moves dossiers by
itself every 20 seconds. ``--script`` plays a short tour without input — including a
followed dossier becoming ready and its pickup notice arriving — and exits 0, or 1 if the
bot ever answered with its "something went wrong" apology or the notice did not come.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx
from pydantic import SecretStr

from bot.channels.console import CHANNEL, ConsoleChat, ConsoleSender, Writer
from bot.composition import open_runtime, watcher_schedule
from bot.core import APOLOGY
from bot.domain.codes import extract_codes
from bot.domain.status import Status
from bot.handlers.render import status_label
from bot.i18n import gettext_for
from bot.logs import configure_logging
from bot.office.demo import demo_workspace
from bot.payloads import Action
from bot.runner import build_dispatcher, build_watcher
from bot.settings import Settings

# How long the scripted tour waits for the pickup notice (the watcher polls every second).
NOTICE_WAIT_S = 30.0
DEMO_POLL_INTERVAL = 1.0
DEMO_SURVEY_DELAY = 15


@dataclass(frozen=True)
class Sample:
    """A generated dossier the demo suggests trying, with its receipt secrets."""

    code: str
    status: str
    pin: str
    phone: str


def add_parser(commands: Any) -> None:
    """Add ``motcua demo``."""
    parser = commands.add_parser(
        "demo", help="try the bot in the terminal with a built-in case system (no token needed)"
    )
    parser.add_argument("--script", action="store_true", help="play a scripted tour and exit")
    parser.add_argument(
        "--dossiers", type=int, default=90_000, help="how many dossiers to generate"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    parser.set_defaults(run=run_demo)


async def fetch_samples(url: str, token: str) -> dict[str, Sample]:
    """One sample dossier per interesting status, from the simulator's admin endpoint."""
    found: dict[str, Sample] = {}
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=5
    ) as client:
        for status in ("processing", "ready", "supplement_required", "returned"):
            answer = await client.get("/admin/samples", params={"status": status, "limit": 1})
            answer.raise_for_status()
            for item in answer.json()["items"]:
                dossier = item["dossier"]
                found[status] = Sample(dossier["code"], status, item["pin"], item["phone"])
    return found


def hint(samples: dict[str, Sample], language: str) -> str:
    """A short hint of real codes to try, their status in words, PIN and phone number."""
    _ = gettext_for(language)
    lines = [_("Codes you can try (the PIN and phone number are what a receipt would show):")]
    for sample in samples.values():
        status = status_label(Status(sample.status), _)
        lines.append(
            "  "
            + _("{code}  {status}, PIN {pin}, phone {phone}").format(
                code=sample.code, status=status, pin=sample.pin, phone=sample.phone
            )
        )
    lines.append(
        _(
            "Confirm a dossier (PIN or phone), then type /simulate ready to see the "
            "pickup notice arrive. Type /help for help, Ctrl-D to leave."
        )
    )
    return "\n".join(lines)


class Simulate:
    """The demo's own ``/simulate <status> [code]``: move a dossier in the simulated case
    system, as an official would in the real one (not a bot command: the bot never sees it)."""

    def __init__(self, move: Callable[[str, Status], object], out: Writer) -> None:
        self._move = move
        self._out = out
        self.last_code: str | None = None

    def noticed(self, line: str) -> None:
        """Remember the last dossier code the citizen typed."""
        codes = extract_codes(line)
        if codes:
            self.last_code = str(codes[-1])

    def handles(self, line: str) -> bool:
        """Whether `line` is a ``/simulate`` command."""
        return line.strip().lower().split(" ", 1)[0] in ("/simulate", "/mophong")

    def run(self, line: str, language: str) -> bool:
        """Execute ``/simulate``; True when the dossier moved."""
        _ = gettext_for(language)
        words = line.split()[1:]
        codes = [str(code) for word in words for code in extract_codes(word)]
        rest = [w for w in words if not extract_codes(w)]
        status = _parse_status(rest[0]) if len(rest) == 1 else None
        code = codes[0] if codes else self.last_code
        if status is None or code is None:
            choices = ", ".join(s.value for s in Status)
            self._say(
                _("Usage: /simulate <status> [code], status one of: {choices}").format(
                    choices=choices
                )
            )
            return False
        try:
            self._move(code, status)
        except Exception as error:  # unknown dossier, or a move the rules forbid
            self._say(_("The simulated case system refused: {reason}").format(reason=error))
            return False
        self._say(
            _("Simulated case system: dossier {code} is now “{status}”.").format(
                code=code, status=status_label(status, _)
            )
        )
        return True

    def _say(self, text: str) -> None:
        self._out.write(f"   ⚙ {text}\n")
        self._out.flush()


def _parse_status(word: str) -> Status | None:
    text = word.strip().lower()
    if text.isdigit():
        try:
            return Status.from_code(int(text))
        except ValueError:
            return None
    try:
        return Status(text)
    except ValueError:
        return None


async def tour(
    chat: ConsoleChat,
    samples: dict[str, Sample],
    out: Writer,
    simulate: Simulate,
    pushes: ConsoleSender,
) -> bool:
    """The scripted tour: a real code, an invalid one, verification (a PIN typed right after
    the lookup, a shared phone), citizens writing in their own words, the pickup notice
    arriving for the followed dossier, my dossiers; False if the notice never came."""
    processing, ready = samples["processing"], samples["ready"]

    async def say(text: str) -> None:
        out.write(f"\n👤 {text}\n")
        if simulate.handles(text):
            simulate.run(text, chat.language)
            return
        simulate.noticed(text)
        await chat.type(text)

    async def press(action: Action) -> None:
        out.write(f"\n👤 [{action.name.lower()}]\n")
        await chat.press_action(action)

    await say("/start")
    await say("em chào anh chị ạ")
    await say("000.00.53.H48-221399-0099")
    await say(f"Cho tôi hỏi hồ sơ {processing.code} đã xong chưa ạ?")
    # The PIN typed right after the lookup, without the button; spaces are fine.
    await say("000000")
    await say(processing.pin[:3] + " " + processing.pin[3:])
    await say("hs cua e xong chua a")
    await say("phải đóng bao nhiêu tiền")
    await say("cảm ơn em 👍")
    await say("/simulate ready")
    arrived = await pushes.wait_for(1, within=NOTICE_WAIT_S)
    await say(ready.code.lower() + ".")
    await press(Action.VERIFY)
    await press(Action.CONTACT)
    await say(ready.phone)
    await say("/mine")
    await say("/lang en")
    await say(processing.code)
    await say("/lang vi")
    await say("lấy kết quả ở đâu, cần mang gì?")
    await say("sdt cua em 0912345678")
    await say("góp ý")
    await say("Phòng chờ hơi nóng, nên lắp thêm quạt ạ")
    await say("when can i get the result?")
    await say("ok thanks")
    return arrived


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the demo until the citizen leaves (or the tour ends)."""
    from bot.caseapi.simulator import run_simulator

    data_dir = settings.data_dir / "demo"
    data_dir.mkdir(parents=True, exist_ok=True)
    database = data_dir / ("tour.db" if args.script else "demo.db")
    if args.script:
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
    configure_logging(settings.log_level, file=data_dir / "motcua.log", fmt=settings.log_format)
    out = sys.stdout
    out.write(
        f"Dữ liệu / data: {data_dir}\n"
        "Đang khởi động hệ thống mô phỏng… / Starting the simulated case system…\n"
    )
    out.flush()
    token = secrets.token_urlsafe(16)
    async with run_simulator(
        seed=args.seed,
        dossiers=args.dossiers,
        token=token,
        advance_every=None if args.script else 20.0,
    ) as sim:
        demo_settings = settings.model_copy(
            update={
                "case_api_url": sim.url,
                "case_api_token": SecretStr(token),
                "database_url": f"sqlite+aiosqlite:///{database}",
                "deep_link_secret": settings.deep_link_secret
                or SecretStr(secrets.token_urlsafe(24)),
                "poll_interval": DEMO_POLL_INTERVAL,
                "quiet_hours": "off",  # a demo at night still shows the notice
                "survey_delay": DEMO_SURVEY_DELAY,
            }
        )
        samples = await fetch_samples(sim.url, token)
        async with open_runtime(demo_settings) as runtime, contextlib.AsyncExitStack() as stack:
            office = await stack.enter_async_context(
                demo_workspace(runtime, port=0 if args.script else settings.http_port)
            )
            transcript = _Tee(out)
            chat = ConsoleChat(runtime.handler, transcript)
            pushes = ConsoleSender(chat)
            watcher = await build_watcher(runtime, stack)
            dispatcher = build_dispatcher(runtime, {CHANNEL: pushes})
            # The first poll reads the changes feed's "now" before anything can be moved.
            await watcher.poll_once()
            jobs = watcher_schedule(watcher, poll_interval=demo_settings.poll_interval)
            await jobs.start()
            stack.push_async_callback(watcher.release)
            stack.push_async_callback(jobs.stop)
            await dispatcher.start()
            stack.push_async_callback(dispatcher.stop)
            simulate = Simulate(
                lambda code, status: sim.state.move(code, status, datetime.now(UTC)), transcript
            )
            out.write("\n".join(office.lines()) + "\n")
            out.write(hint(samples, chat.language) + "\n")
            if args.script:
                arrived = await tour(chat, samples, transcript, simulate, pushes)
                apologies = {gettext_for(lang)(APOLOGY) for lang in ("vi", "en")}
                if not arrived:
                    print("motcua demo: the pickup notice did not arrive", file=sys.stderr)
                    return 1
                return 1 if any(a in transcript.seen for a in apologies) else 0
            await _interactive(chat, out, simulate, pushes)
    return 0


async def _interactive(
    chat: ConsoleChat, out: TextIO, simulate: Simulate, pushes: ConsoleSender
) -> None:
    """Read lines with line editing (readline) until Ctrl-D; pushes appear as they come.

    Ctrl-C ends the demo too: lines are read in a daemon thread, so a stop never waits for
    the citizen to press Enter, and the terminal's settings are put back as they were.
    """
    prompt = "\n👤 "
    read = _line_reader(prompt)
    pushes.after_push = _redraw(prompt, out)
    with _terminal_restored():
        while True:
            try:
                line = await _in_daemon_thread(read)
            except EOFError:
                out.write("\n")
                return
            if simulate.handles(line):
                simulate.run(line, chat.language)
                continue
            simulate.noticed(line)
            await chat.type(line)


async def _in_daemon_thread(read: Callable[[], str]) -> str:
    """`read()` in a daemon thread (`asyncio.to_thread` threads are joined at exit)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(line: str | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile (Ctrl-C)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(line or "")

    def work() -> None:
        try:
            line = read()
        except BaseException as error:  # EOFError (Ctrl-D) included
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, line, None)

    threading.Thread(target=work, name="motcua-demo-input", daemon=True).start()
    return await future


@contextlib.contextmanager
def _terminal_restored() -> Iterator[None]:
    """Put the terminal's settings back on the way out (readline changes them while it
    reads, and a Ctrl-C may leave it mid-line)."""
    try:
        import termios

        saved = termios.tcgetattr(sys.stdin.fileno()) if sys.stdin.isatty() else None
    except (ImportError, OSError, ValueError):
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def _line_reader(prompt: str) -> Callable[[], str]:
    """`input` with readline's line editing and history on a terminal, else plain lines."""
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):  # not on Windows
            import readline  # noqa: F401 - importing it gives input() line editing

        return lambda: input(prompt)

    def plain() -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if line == "":
            raise EOFError
        return line.rstrip("\n")

    return plain


def _redraw(prompt: str, out: TextIO) -> Callable[[], None]:
    """After a push: the prompt again, with what the citizen had typed so far."""

    def redraw() -> None:
        typed = ""
        with contextlib.suppress(ImportError):
            import readline

            typed = readline.get_line_buffer()
        out.write(prompt + typed)
        out.flush()

    return redraw


class _Tee:
    """Writes through to the terminal and remembers what the bot said (for the tour's check)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.seen = ""

    def write(self, text: str) -> int:
        self.seen += text
        return self._out.write(text)

    def flush(self) -> None:
        self._out.flush()


__all__: Sequence[str] = ("Sample", "fetch_samples", "hint", "run_demo", "tour")
