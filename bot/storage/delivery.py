"""The dispatcher's delivery queue (`bot.ports.DeliveryQueue`) over any unit of work.

Each call is one unit of work of its own around the outbox repository: a claim must hold
the write lock by itself (see `bot.storage.outbox`), and what the dispatcher records must be
committed before it moves on. Works the same over the SQL and the in-memory units of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.domain.pacing import ChannelLimit
from bot.ports import ClaimedNotice, DeliveryOutcome, UnitOfWorkFactory


class OutboxDeliveryQueue:
    """`bot.ports.DeliveryQueue` on the outbox of the units of work `uow_factory` makes."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def claim(
        self,
        *,
        now: datetime,
        limits: Mapping[str, ChannelLimit],
        token: str,
        lease: timedelta,
        horizon: float,
        lead: float,
        limit: int,
    ) -> list[ClaimedNotice]:
        """Claim due notices with their send slots, committed before they are returned."""
        async with self._uow_factory() as uow:
            claimed = await uow.outbox.claim(
                now=now,
                limits=limits,
                token=token,
                lease=lease,
                horizon=horizon,
                lead=lead,
                limit=limit,
            )
            await uow.commit()
        return claimed

    async def settle(self, outcomes: Sequence[DeliveryOutcome], *, now: datetime) -> int:
        """Record what became of claimed notices; how many were recorded."""
        async with self._uow_factory() as uow:
            settled = await uow.outbox.settle(outcomes, now=now)
            await uow.commit()
        return settled

    async def pause(self, channel: str, until: datetime) -> None:
        """Pause `channel` for every dispatcher until `until`."""
        async with self._uow_factory() as uow:
            await uow.outbox.pause_channel(channel, until)
            await uow.commit()
