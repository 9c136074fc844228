"""Rate limits of the channels, shared by every dispatcher process through the database.

Telegram allows about 30 messages per second overall and one per second per chat; Zalo has
its own numbers. Several dispatchers (one per ``motcua run`` process) may deliver from one
database, so a limiter in one process's memory cannot keep the sum under the limit. Instead,
the send *slots* are handed out by the database, inside the claim transaction:

- ``outbox_channel_pacing`` holds, per channel, ``next_slot_at``: the time of the channel's
  next free send slot. A claim locks that row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` already serialises writers), gives each row it claims the next slot,
  ``slot_interval`` apart, and moves ``next_slot_at`` past the last one. Slots are handed out
  at most `horizon` seconds ahead, so a claim takes roughly ``per_second × horizon`` rows.
  However many dispatchers run, their slots never overlap, so the channel's overall rate is
  never exceeded, and an idle dispatcher costs the others nothing (unlike dividing the budget
  by the number of live dispatchers, which wastes the share of one that has no work).
- ``outbox_user_pacing`` holds, per chat user, ``next_send_at``: a row is claimed only if its
  user's next allowed time is not after the slot it would get, and one claim takes at most
  one row per user; the user's ``next_send_at`` then becomes ``slot + chat_interval``.
- Flood control from the platform (``retry_after``) moves the channel's ``next_slot_at`` to
  the end of the wait, which pauses the channel for every dispatcher.

A dispatcher then sleeps until each row's slot before sending it; slots start a little
ahead (`lead`) so that the claim has committed by then, and a send that could not start
within a small tolerance of its slot (an overloaded process) is not sent late, where it would
crowd the next slot of the chat or of another dispatcher, but put back in the queue. A
dispatcher that dies
leaves its unused slots unused, and its claimed rows are taken back after their lease.
Both intervals carry a safety margin for the jitter between the moment a message leaves and
the moment the platform counts it. The chat's is wider (`chat_safety`): one message delayed
in transit and the next one on time land less than the interval apart, and since a chat
gets a message a second at most, a tenth of a second more costs nothing; the channel's
(`safety`) is its throughput, so it stays small.

Last, each dispatcher keeps a `SendWindow` per channel: right before a message leaves, it
reserves its start so that no more than the configured rate start in any window of one second
widened by `safety`. Sends on their slots are never held by it (the slots are spaced just so);
sends bunched after a late wake-up (a busy loop, a slow render) are spread out again, so the
rate holds in every one-second window, not only on average.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.pacing import ChannelLimit, SendWindow, SlotCursor, max_in_window
from bot.messages import Channel

__all__ = [
    "DEFAULT_LIMITS",
    "FALLBACK_LIMIT",
    "ChannelLimit",
    "SendWindow",
    "SlotCursor",
    "limit_for",
    "max_in_window",
]

# Telegram: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
# Zalo OA publishes no firm figure; these are conservative.
DEFAULT_LIMITS: Mapping[str, ChannelLimit] = {
    Channel.TELEGRAM: ChannelLimit(per_second=30.0, per_chat_interval=1.0),
    Channel.ZALO: ChannelLimit(per_second=10.0, per_chat_interval=1.0),
    Channel.CONSOLE: ChannelLimit(per_second=1000.0, per_chat_interval=0.0),
}

# For a channel with no configured limit.
FALLBACK_LIMIT = ChannelLimit(per_second=10.0, per_chat_interval=1.0)


def limit_for(limits: Mapping[str, ChannelLimit], channel: str) -> ChannelLimit:
    """The limit of `channel` from `limits`, else the default one."""
    return limits.get(channel) or DEFAULT_LIMITS.get(channel) or FALLBACK_LIMIT
