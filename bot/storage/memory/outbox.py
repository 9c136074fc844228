"""The transactional outbox in memory: the twin of `bot.storage.outbox`.

Queuing, cancelling and requeuing notices, and the dispatcher's claim and settle, with the
same claim planning as SQL (`bot.domain.pacing.plan_claim` over the user and channel pacing).
Units of work on the twin take turns, which stands for the locks the SQL claim takes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.domain.pacing import ChannelLimit, ClaimCandidate, SlotCursor, plan_claim
from bot.ports import (
    FINISHED_STATES,
    PENDING_STATES,
    ClaimedNotice,
    DeliveryOutcome,
    Notice,
    OutboxState,
)
from bot.storage.memory.database import MemoryTables, OutboxRow, no_user


def _about(dossier_code: str | None, agencies: Sequence[str]) -> bool:
    """Whether a dossier code belongs to one of `agencies` (its prefix before "-")."""
    return dossier_code is not None and any(
        dossier_code.startswith(f"{code}-") for code in agencies
    )


class MemoryOutboxRepository:
    """`bot.ports.OutboxRepository` in memory, with the same claim planning as SQL."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def enqueue(self, notice: Notice, *, now: datetime) -> bool:
        """Queue `notice`; False when its dedup key was already queued."""
        return await self.enqueue_many([notice], now=now) == 1

    async def enqueue_many(self, notices: Sequence[Notice], *, now: datetime) -> int:
        """Queue many notices; how many were new."""
        keys = {row.dedup_key for row in self._t.outbox.values()}
        new = 0
        for notice in notices:
            if notice.dedup_key in keys:
                continue
            if notice.user_id not in self._t.users:
                raise no_user(notice.user_id)
            keys.add(notice.dedup_key)
            due = notice.not_before if notice.not_before and notice.not_before > now else now
            row_id = self._t.next_outbox_id
            self._t.next_outbox_id += 1
            self._t.outbox[row_id] = OutboxRow(
                id=row_id,
                user_id=notice.user_id,
                kind=notice.kind,
                dossier_code=notice.dossier_code,
                params=copy.deepcopy(dict(notice.params)),
                dedup_key=notice.dedup_key,
                state=OutboxState.QUEUED,
                next_attempt_at=due,
                urgent=notice.urgent,
                not_before=notice.not_before,
                expires_at=notice.expires_at,
                created_at=now,
            )
            new += 1
        return new

    async def release_held(self, user_id: int, *, now: datetime) -> int:
        """Make the user's held notices deliverable again."""
        held = [
            r
            for r in self._t.outbox.values()
            if r.user_id == user_id and r.state is OutboxState.HELD
        ]
        for row in held:
            row.state, row.next_attempt_at = OutboxState.QUEUED, now
        return len(held)

    async def cancel(
        self, dossier_codes: Sequence[str], kinds: Sequence[str], *, now: datetime
    ) -> int:
        """Cancel unsent notices of `kinds` about any of the dossiers."""
        codes, wanted = set(dossier_codes), set(kinds)
        rows = [r for r in self._t.outbox.values() if r.dossier_code in codes and r.kind in wanted]
        return self._cancel(rows, now)

    async def cancel_for_user(
        self, user_id: int, *, dossier_code: str | None = None, now: datetime
    ) -> int:
        """Cancel the user's unsent notices about one dossier, or about every dossier."""
        rows = [
            r
            for r in self._t.outbox.values()
            if r.user_id == user_id
            and r.dossier_code is not None
            and (dossier_code is None or r.dossier_code == dossier_code)
        ]
        return self._cancel(rows, now)

    @staticmethod
    def _cancel(rows: Iterable[OutboxRow], now: datetime) -> int:
        pending = [r for r in rows if r.state in PENDING_STATES]
        for row in pending:
            row.state, row.lease_until, row.next_attempt_at = OutboxState.CANCELLED, None, now
        return len(pending)

    async def claim(
        self,
        *,
        now: datetime,
        limits: Mapping[str, ChannelLimit],
        token: str,
        lease: timedelta,
        horizon: float = 1.0,
        lead: float = 0.0,
        limit: int = 100,
    ) -> list[ClaimedNotice]:
        """Claim due notices with their send slots (see `bot.ports.OutboxRepository.claim`)."""
        channels = sorted(limits)
        if not channels or limit <= 0:
            return []
        cursors = {
            c: SlotCursor.open(
                limits[c], self._t.channel_pacing.get(c, now), now=now, horizon=horizon, lead=lead
            )
            for c in channels
        }
        open_channels = {c for c in channels if not cursors[c].exhausted}
        if not open_channels:
            return []
        budget = min(limit, sum(cursors[c].capacity for c in open_channels))
        pacing_limit = now + timedelta(seconds=horizon)
        due = sorted(
            (
                row
                for row in self._t.outbox.values()
                if self._due(row, now)
                and self._t.users[row.user_id].channel in open_channels
                and (
                    (paced := self._t.user_pacing.get(row.user_id)) is None
                    or paced <= pacing_limit
                    or self._t.users[row.user_id].blocked
                    or (row.expires_at is not None and row.expires_at <= now)
                )
            ),
            key=lambda r: (not r.urgent, r.created_at, r.id),
        )[: 2 * budget + 16]
        plan = plan_claim(
            (
                ClaimCandidate(
                    id=row.id,
                    user_id=row.user_id,
                    channel=self._t.users[row.user_id].channel,
                    blocked=self._t.users[row.user_id].blocked,
                    expires_at=row.expires_at,
                    next_send_at=self._t.user_pacing.get(row.user_id),
                    payload=row,
                )
                for row in due
            ),
            cursors,
            now=now,
            budget=budget,
        )
        self._finish(plan.expired, OutboxState.EXPIRED, "expired before it could be sent", now)
        self._finish(plan.blocked, OutboxState.DEAD, "user blocked the bot", now)
        if not plan.claimed:
            return []
        for channel, cursor in cursors.items():
            if cursor.taken:
                self._t.channel_pacing[channel] = cursor.next_slot
        self._t.user_pacing.update(plan.user_next)
        lease_until = max(slot for _, slot in plan.claimed) + lease
        claimed: list[ClaimedNotice] = []
        for candidate, slot in plan.claimed:
            row = self._t.outbox[candidate.id]
            row.state, row.lease_until, row.claim_token = OutboxState.SENDING, lease_until, token
            user = self._t.users[row.user_id]
            claimed.append(
                ClaimedNotice(
                    id=row.id,
                    user_id=row.user_id,
                    kind=row.kind,
                    dossier_code=row.dossier_code,
                    params=copy.deepcopy(row.params),
                    attempts=row.attempts,
                    urgent=row.urgent,
                    channel=user.channel,
                    channel_user_id=user.channel_user_id,
                    language=user.language,
                    claim_token=token,
                    slot=slot,
                )
            )
        return claimed

    @staticmethod
    def _due(row: OutboxRow, now: datetime) -> bool:
        if row.state in (OutboxState.QUEUED, OutboxState.RETRYING):
            return row.next_attempt_at <= now
        return (
            row.state is OutboxState.SENDING
            and row.lease_until is not None
            and row.lease_until < now
        )

    def _finish(self, ids: Sequence[int], state: OutboxState, error: str, now: datetime) -> None:
        for row_id in ids:
            row = self._t.outbox[row_id]
            row.state, row.last_error, row.next_attempt_at = state, error, now
            row.lease_until = row.claim_token = None

    async def settle(self, outcomes: Iterable[DeliveryOutcome], *, now: datetime) -> int:
        """Record what became of claimed notices still claimed under the same token."""
        settled = 0
        for outcome in outcomes:
            state = OutboxState(outcome.state)
            if state is OutboxState.SENDING:
                raise ValueError(f"cannot settle a row as {state.value!r}")
            notice = outcome.notice
            if outcome.block_user and notice.user_id in self._t.users:
                user = self._t.users[notice.user_id]
                self._t.users[user.id] = dataclasses.replace(user, blocked=True)
            row = self._t.outbox.get(notice.id)
            if row is None or row.state is not OutboxState.SENDING:
                continue
            if row.claim_token != notice.claim_token:
                continue
            counted = state in (OutboxState.RETRYING, OutboxState.DEAD)
            row.state = state
            row.attempts = notice.attempts + (1 if counted else 0)
            row.next_attempt_at = outcome.next_attempt_at or now
            row.last_error = outcome.error[:200] if outcome.error else None
            row.sent_at = now if state is OutboxState.SENT else None
            row.lease_until = row.claim_token = None
            settled += 1
        return settled

    async def pause_channel(self, channel: str, until: datetime) -> None:
        """Give out no send slot of `channel` before `until`."""
        known = self._t.channel_pacing.get(channel)
        if known is None or known < until:
            self._t.channel_pacing[channel] = until

    async def requeue_dead(
        self, *, now: datetime, kind: str | None = None, agencies: Sequence[str] | None = None
    ) -> int:
        """Put dead notices (of `kind`, or all; about `agencies`' dossiers) back in the queue."""
        dead = [
            r
            for r in self._t.outbox.values()
            if r.state is OutboxState.DEAD
            and (kind is None or r.kind == kind)
            and (agencies is None or _about(r.dossier_code, agencies))
        ]
        for row in dead:
            row.state, row.attempts, row.next_attempt_at = OutboxState.QUEUED, 0, now
            row.last_error = None
        return len(dead)

    async def counts(self) -> dict[OutboxState, int]:
        """How many notices are in each state (zeros included)."""
        found = {state: 0 for state in OutboxState}
        for row in self._t.outbox.values():
            found[row.state] += 1
        return found

    async def purge_finished(self, before: datetime) -> int:
        """Delete notices created and finished before `before`."""
        old = [
            r.id
            for r in self._t.outbox.values()
            if r.state in FINISHED_STATES
            and r.created_at < before
            and (r.sent_at or r.next_attempt_at) < before
        ]
        for row_id in old:
            del self._t.outbox[row_id]
        return len(old)
