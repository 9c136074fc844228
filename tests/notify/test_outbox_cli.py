"""``motcua outbox``: counts by state, and requeuing dead pushes."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from bot.notify import cli
from bot.notify.throttle import ChannelLimit
from bot.ports import DeliveryOutcome as Outcome
from bot.ports import OutboxState
from bot.settings import Settings
from bot.storage.engine import DatabaseEngine
from tests.notify.outbox_support import T0, enqueue, factory_of, make_users, notice, rows


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="motcua")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["outbox", *argv])


async def test_counts_and_requeue_dead(
    engine: DatabaseEngine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    users = await make_users(engine, 3)
    await enqueue(engine, [notice(u, i) for i, u in enumerate(users)])
    async with factory_of(engine)() as uow:
        a, b = await uow.outbox.claim(
            now=T0,
            limits={"telegram": ChannelLimit(1000, 0)},
            token="t",
            lease=timedelta(seconds=60),
            limit=2,
        )
        await uow.outbox.settle(
            [Outcome(a, OutboxState.SENT), Outcome(b, OutboxState.DEAD, error="gave up")], now=T0
        )
        await uow.commit()
    settings = Settings(database_url=database_url)

    assert await cli.run(parse(), settings) == 0
    shown = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert shown == {
        "queued": "1",
        "retrying": "0",
        "held": "0",
        "sending": "0",
        "sent": "1",
        "dead": "1",
        "cancelled": "0",
        "expired": "0",
        "quarantined": "0",
    }

    assert await cli.run(parse("--requeue-dead"), settings) == 0
    out = capsys.readouterr().out
    assert out.startswith("requeued 1 dead push\n")
    assert [r["state"] for r in await rows(engine)].count("queued") == 2

    assert await cli.run(parse("--kind", "x"), settings) == 2
