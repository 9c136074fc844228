"""What channels report about their users, recorded in storage (implements ChannelEvents)."""

from __future__ import annotations

import logging

from bot.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


class StoredChannelEvents:
    """Marks users who blocked the bot, so nothing more is pushed to them."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def user_blocked(self, channel: str, channel_user_id: str) -> None:
        """The user blocked the bot on `channel`."""
        async with self._uow_factory() as uow:
            user = await uow.users.get_or_create(
                channel, channel_user_id, language="vi", now=self._clock.now()
            )
            await uow.users.set_blocked(user.id, True)
            await uow.commit()
        log.info("user %s blocked the bot on %s; pushes to them stop", user.id, channel)
