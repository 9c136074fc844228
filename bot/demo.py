"""``motcua demo``: everything embedded — the case API simulator, SQLite, a chat in the terminal.

``--script`` plays a short tour without input and exits 0, or 1 if the bot ever answered with
its "something went wrong" apology.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import httpx
from pydantic import SecretStr

from bot.channels.console import ConsoleChat, Writer
from bot.composition import open_runtime
from bot.core import APOLOGY
from bot.handlers.payloads import Action
from bot.i18n import gettext_for
from bot.logs import configure_logging
from bot.settings import Settings


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
    """A short hint of real codes to try."""
    _ = gettext_for(language)
    lines = [_("Codes you can try (the PIN is what a receipt would show):")]
    for sample in samples.values():
        lines.append(f"  {sample.code}  ({sample.status}, PIN {sample.pin})")
    lines.append(_("Type /help for help, Ctrl-D to leave."))
    return "\n".join(lines)


async def tour(chat: ConsoleChat, samples: dict[str, Sample], out: Writer) -> None:
    """The scripted tour: a real code, an invalid one, verification, my dossiers."""
    processing, ready = samples["processing"], samples["ready"]

    async def say(text: str) -> None:
        out.write(f"\n👤 {text}\n")
        await chat.type(text)

    async def press(action: Action) -> None:
        out.write(f"\n👤 [{action.name.lower()}]\n")
        await chat.press_action(action)

    await say("/start")
    await say("000.00.53.H48-221399-0099")
    await say(f"Cho tôi hỏi hồ sơ {processing.code} đã xong chưa ạ?")
    await press(Action.VERIFY)
    await say("000000")
    await say(processing.pin)
    await say(ready.code.lower() + ".")
    await press(Action.VERIFY)
    await press(Action.CONTACT)
    await say(ready.phone)
    await say("/mine")
    await say("/lang en")
    await say(processing.code)
    await say("/lang vi")


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
    out.write("Đang khởi động hệ thống mô phỏng… / Starting the simulated case system…\n")
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
            }
        )
        samples = await fetch_samples(sim.url, token)
        async with open_runtime(demo_settings) as runtime:
            transcript = _Tee(out)
            chat = ConsoleChat(runtime.handler, transcript)
            out.write(hint(samples, chat.language) + "\n")
            if args.script:
                await tour(chat, samples, transcript)
                apologies = {gettext_for(lang)(APOLOGY) for lang in ("vi", "en")}
                return 1 if any(a in transcript.seen for a in apologies) else 0
            await _interactive(chat, out)
    return 0


async def _interactive(chat: ConsoleChat, out: TextIO) -> None:
    while True:
        out.write("\n👤 ")
        out.flush()
        try:
            line = await asyncio.to_thread(sys.stdin.readline)
        except (KeyboardInterrupt, EOFError):
            return
        if line == "":
            out.write("\n")
            return
        await chat.type(line.rstrip("\n"))


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
