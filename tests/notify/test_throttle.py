"""Channel limits: the intervals the claim hands out slots by."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.notify.throttle import DEFAULT_LIMITS, ChannelLimit


def test_the_chat_interval_has_the_wider_margin() -> None:
    telegram = DEFAULT_LIMITS["telegram"]
    # 30 messages/s overall keeps a 4 % margin; a chat's one message a second keeps 10 %.
    assert telegram.slot_interval == timedelta(seconds=1.04 / 30)
    assert telegram.chat_interval == timedelta(seconds=1.1)


def test_each_margin_widens_its_own_interval() -> None:
    limit = ChannelLimit(per_second=10, per_chat_interval=2.0, safety=0.05, chat_safety=0.25)
    assert limit.slot_interval == timedelta(seconds=0.105)
    assert limit.chat_interval == timedelta(seconds=2.5)


@pytest.mark.parametrize(
    "arguments",
    [{"per_second": 0}, {"per_second": 5, "safety": -0.1}, {"per_second": 5, "chat_safety": -1}],
)
def test_impossible_limits_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ChannelLimit(**arguments)
