"""The transactional outbox on SQL: queuing notices, and claiming and settling them for delivery.

`enqueue`, `enqueue_many`, `release_held` and `cancel` (the `bot.ports.OutboxRepository`
port) run inside the caller's transaction, the same one as the change that caused them.

`claim`, `settle` and `pause_channel` are the dispatcher's (through `bot.ports.DeliveryQueue`).
A claim must run in a unit of work of its own: on SQLite it is begun with ``BEGIN IMMEDIATE``
and holds the write lock, so two claims can never interleave; on PostgreSQL
the channel pacing rows are locked ``FOR UPDATE`` and the candidate outbox rows are read
``FOR UPDATE OF outbox SKIP LOCKED``. See `bot.notify.throttle` for the pacing scheme.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.pacing import ChannelLimit, ClaimCandidate, SlotCursor, plan_claim
from bot.ports import (
    FINISHED_STATES,
    PENDING_STATES,
    ClaimedNotice,
    DeliveryOutcome,
    Notice,
    OutboxState,
)
from bot.storage.agency_scope import about_agencies
from bot.storage.dialect import rowcount, upsert_into
from bot.storage.tables import chat_users
from bot.storage.tables_outbox import outbox, outbox_channel_pacing, outbox_user_pacing

_PENDING = sorted(PENDING_STATES)
_FINISHED = sorted(FINISHED_STATES)


def _row(notice: Notice, now: datetime) -> dict[str, Any]:
    due = notice.not_before if notice.not_before is not None and notice.not_before > now else now
    return {
        "user_id": notice.user_id,
        "kind": notice.kind,
        "dossier_code": notice.dossier_code,
        "params": dict(notice.params),
        "dedup_key": notice.dedup_key,
        "state": OutboxState.QUEUED,
        "attempts": 0,
        "next_attempt_at": due,
        "urgent": notice.urgent,
        "not_before": notice.not_before,
        "expires_at": notice.expires_at,
        "created_at": now,
    }


def _candidate(row: Any) -> ClaimCandidate:
    return ClaimCandidate(
        id=row["id"],
        user_id=row["user_id"],
        channel=row["channel"],
        blocked=row["blocked"],
        expires_at=row["expires_at"],
        next_send_at=row["next_send_at"],
        payload=row,
    )


class SqlOutboxRepository:
    """The outbox over one connection; never commits (the caller owns the transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # ------------------------------------------------------------------ the port

    async def enqueue(self, notice: Notice, *, now: datetime) -> bool:
        """Queue `notice`; False when its dedup key was already queued (nothing written)."""
        return await self.enqueue_many([notice], now=now) == 1

    async def enqueue_many(self, notices: Sequence[Notice], *, now: datetime) -> int:
        """Queue many notices in one statement; returns how many were new."""
        if not notices:
            return 0
        rows = [_row(n, now) for n in notices]
        statement = (
            upsert_into(self._connection, outbox)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[outbox.c.dedup_key])
            .returning(outbox.c.id)
        )
        result = await self._connection.execute(statement)
        return len(result.all())

    async def release_held(self, user_id: int, *, now: datetime) -> int:
        """Make the user's notices held for a closed chat window deliverable again."""
        result = await self._connection.execute(
            update(outbox)
            .where(outbox.c.user_id == user_id, outbox.c.state == OutboxState.HELD)
            .values(state=OutboxState.QUEUED, next_attempt_at=now)
        )
        return rowcount(result)

    async def cancel(
        self, dossier_codes: Sequence[str], kinds: Sequence[str], *, now: datetime
    ) -> int:
        """Cancel unsent notices of `kinds` about any of the dossiers (e.g. reminders once
        returned), in one statement for a whole page of changes.

        A notice being sent at this moment is not stopped.
        """
        if not dossier_codes or not kinds:
            return 0
        result = await self._connection.execute(
            update(outbox)
            .where(
                outbox.c.dossier_code.in_(bindparam("codes", expanding=True)),
                outbox.c.kind.in_(list(kinds)),
                outbox.c.state.in_(_PENDING),
            )
            .values(state=OutboxState.CANCELLED, lease_until=None, next_attempt_at=now),
            {"codes": list(dossier_codes)},
        )
        return rowcount(result)

    async def cancel_for_user(
        self, user_id: int, *, dossier_code: str | None = None, now: datetime
    ) -> int:
        """Cancel the user's unsent notices about one dossier, or about every dossier.

        "Stop notices" ends the subscription, so no new notice is queued; this stops the ones
        already queued for later (reminders, a survey invitation).
        """
        about = (
            outbox.c.dossier_code.is_not(None)
            if dossier_code is None
            else outbox.c.dossier_code == dossier_code
        )
        result = await self._connection.execute(
            update(outbox)
            .where(outbox.c.user_id == user_id, outbox.c.state.in_(_PENDING), about)
            .values(state=OutboxState.CANCELLED, lease_until=None, next_attempt_at=now)
        )
        return rowcount(result)

    # ------------------------------------------------------------------ claiming

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
        """Claim up to `limit` due rows of users on the channels of `limits`, each with a send
        slot from `now + lead` to `now + horizon` under the channel's and the chat's limits.

        Claimed rows are "sending" under `token` until their slot plus `lease`. Rows whose
        lease passed are claimable again (their dispatcher died). Rows found expired are
        marked expired; rows of users who blocked the bot are marked dead. Urgent rows first,
        then oldest first. Call in a write transaction of its own (see the module docstring).
        """
        channels = sorted(limits)
        if not channels or limit <= 0:
            return []
        cursors = await self._open_cursors(channels, limits, now=now, horizon=horizon, lead=lead)
        open_channels = [c for c in channels if not cursors[c].exhausted]
        if not open_channels:
            return []
        budget = min(limit, sum(cursors[c].capacity for c in open_channels))
        candidates = await self._connection.execute(
            self._candidates(open_channels, now=now, horizon=horizon, count=2 * budget + 16)
        )

        plan = plan_claim(
            (_candidate(row) for row in candidates.mappings()), cursors, now=now, budget=budget
        )
        await self._finish(
            plan.expired, OutboxState.EXPIRED, "expired before it could be sent", now
        )
        await self._finish(plan.blocked, OutboxState.DEAD, "user blocked the bot", now)
        if not plan.claimed:
            return []
        claimed: list[tuple[Any, datetime]] = [(c.payload, slot) for c, slot in plan.claimed]
        user_next = plan.user_next
        await self._save_pacing(cursors, user_next)
        lease_until = max(slot for _, slot in claimed) + lease
        await self._connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([row["id"] for row, _ in claimed]))
            .values(state=OutboxState.SENDING, lease_until=lease_until, claim_token=token)
        )
        return [
            ClaimedNotice(
                id=row["id"],
                user_id=row["user_id"],
                kind=row["kind"],
                dossier_code=row["dossier_code"],
                params=row["params"] or {},
                attempts=row["attempts"],
                urgent=row["urgent"],
                channel=row["channel"],
                channel_user_id=row["channel_user_id"],
                language=row["language"],
                claim_token=token,
                slot=slot,
            )
            for row, slot in claimed
        ]

    async def _open_cursors(
        self,
        channels: Sequence[str],
        limits: Mapping[str, ChannelLimit],
        *,
        now: datetime,
        horizon: float,
        lead: float,
    ) -> dict[str, SlotCursor]:
        await self._connection.execute(
            upsert_into(self._connection, outbox_channel_pacing)
            .values([{"channel": c, "next_slot_at": now} for c in channels])
            .on_conflict_do_nothing(index_elements=[outbox_channel_pacing.c.channel])
        )
        query = (
            select(outbox_channel_pacing.c.channel, outbox_channel_pacing.c.next_slot_at)
            .where(outbox_channel_pacing.c.channel.in_(channels))
            .order_by(outbox_channel_pacing.c.channel)
            .with_for_update()  # serialises claims per channel across processes (PostgreSQL)
        )
        rows = (await self._connection.execute(query)).all()
        return {
            channel: SlotCursor.open(limits[channel], at, now=now, horizon=horizon, lead=lead)
            for channel, at in rows
        }

    def _candidates(
        self, channels: Sequence[str], *, now: datetime, horizon: float, count: int
    ) -> Select[Any]:
        pacing_limit = now + timedelta(seconds=horizon)
        due = or_(
            and_(
                outbox.c.state.in_([OutboxState.QUEUED, OutboxState.RETRYING]),
                outbox.c.next_attempt_at <= now,
            ),
            and_(outbox.c.state == OutboxState.SENDING, outbox.c.lease_until < now),
        )
        return (
            select(
                outbox.c.id,
                outbox.c.user_id,
                outbox.c.kind,
                outbox.c.dossier_code,
                outbox.c.params,
                outbox.c.attempts,
                outbox.c.urgent,
                outbox.c.expires_at,
                chat_users.c.channel,
                chat_users.c.channel_user_id,
                chat_users.c.language,
                chat_users.c.blocked,
                outbox_user_pacing.c.next_send_at,
            )
            .select_from(
                outbox.join(chat_users, chat_users.c.id == outbox.c.user_id).outerjoin(
                    outbox_user_pacing, outbox_user_pacing.c.user_id == outbox.c.user_id
                )
            )
            .where(
                due,
                chat_users.c.channel.in_(list(channels)),
                or_(
                    outbox_user_pacing.c.next_send_at.is_(None),
                    outbox_user_pacing.c.next_send_at <= pacing_limit,
                    # expired or blocked rows are settled whatever the pacing
                    chat_users.c.blocked,
                    outbox.c.expires_at <= now,
                ),
            )
            .order_by(outbox.c.urgent.desc(), outbox.c.created_at, outbox.c.id)
            .limit(count)
            .with_for_update(skip_locked=True, of=outbox)
        )

    async def _finish(self, ids: Sequence[int], state: str, error: str, now: datetime) -> None:
        if ids:
            await self._connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)))
                .values(
                    state=state,
                    last_error=error,
                    lease_until=None,
                    claim_token=None,
                    next_attempt_at=now,
                )
            )

    async def _save_pacing(
        self, cursors: Mapping[str, SlotCursor], user_next: Mapping[int, datetime]
    ) -> None:
        for channel, cursor in cursors.items():
            if cursor.taken:
                await self._connection.execute(
                    update(outbox_channel_pacing)
                    .where(outbox_channel_pacing.c.channel == channel)
                    .values(next_slot_at=cursor.next_slot)
                )
        if user_next:
            statement = upsert_into(self._connection, outbox_user_pacing).values(
                [{"user_id": u, "next_send_at": at} for u, at in user_next.items()]
            )
            await self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[outbox_user_pacing.c.user_id],
                    set_={"next_send_at": statement.excluded.next_send_at},
                )
            )

    # ------------------------------------------------------------------ settling

    async def settle(self, outcomes: Iterable[DeliveryOutcome], *, now: datetime) -> int:
        """Record what became of claimed rows; returns how many rows were updated.

        An outcome is recorded only while the row is still claimed under the same token: a
        dispatcher whose lease ran out (and whose rows another one took over) changes nothing.
        """
        params: list[dict[str, Any]] = []
        block: set[int] = set()
        for outcome in outcomes:
            state = OutboxState(outcome.state)
            if state is OutboxState.SENDING:
                raise ValueError(f"cannot settle a row as {state.value!r}")
            notice = outcome.notice
            counted = state in (OutboxState.RETRYING, OutboxState.DEAD)
            attempts = notice.attempts + (1 if counted else 0)
            params.append(
                {
                    "b_id": notice.id,
                    "b_token": notice.claim_token,
                    "b_state": state.value,
                    "b_attempts": attempts,
                    "b_next": outcome.next_attempt_at or now,
                    "b_error": outcome.error[:200] if outcome.error else None,
                    "b_sent_at": now if state is OutboxState.SENT else None,
                }
            )
            if outcome.block_user:
                block.add(notice.user_id)
        if not params:
            return 0
        statement = (
            update(outbox)
            .where(
                outbox.c.id == bindparam("b_id"),
                outbox.c.claim_token == bindparam("b_token"),
                outbox.c.state == OutboxState.SENDING,
            )
            .values(
                state=bindparam("b_state"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                sent_at=bindparam("b_sent_at"),
                lease_until=None,
                claim_token=None,
            )
        )
        result = await self._connection.execute(statement, params)
        if block:
            await self._connection.execute(
                update(chat_users).where(chat_users.c.id.in_(sorted(block))).values(blocked=True)
            )
        return rowcount(result)

    async def pause_channel(self, channel: str, until: datetime) -> None:
        """Give out no send slot of `channel` before `until` (the platform's flood control)."""
        statement = upsert_into(self._connection, outbox_channel_pacing).values(
            channel=channel, next_slot_at=until
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[outbox_channel_pacing.c.channel],
                set_={"next_slot_at": statement.excluded.next_slot_at},
                where=outbox_channel_pacing.c.next_slot_at < statement.excluded.next_slot_at,
            )
        )

    # ------------------------------------------------------------------ operators

    async def counts(self) -> dict[OutboxState, int]:
        """How many rows are in each state (every state present, zeros included)."""
        rows = await self._connection.execute(
            select(outbox.c.state, func.count()).group_by(outbox.c.state)
        )
        found = {OutboxState(state): int(count) for state, count in rows.all()}
        return {state: found.get(state, 0) for state in OutboxState}

    async def purge_finished(self, before: datetime) -> int:
        """Delete rows in a final state that were created and finished before `before`
        (housekeeping); returns how many.

        A row finished when it was sent (`sent_at`) or settled dead, cancelled or expired
        (those set `next_attempt_at` to that moment). Rows that may still be sent (queued,
        retrying, held) or are being sent are never deleted, however old.
        """
        finished_at = func.coalesce(outbox.c.sent_at, outbox.c.next_attempt_at)
        result = await self._connection.execute(
            delete(outbox).where(
                outbox.c.state.in_(_FINISHED),
                outbox.c.created_at < before,
                finished_at < before,
            )
        )
        return rowcount(result)

    async def requeue_dead(
        self, *, now: datetime, kind: str | None = None, agencies: Sequence[str] | None = None
    ) -> int:
        """Put dead rows back in the queue with a fresh attempt count (users who blocked the
        bot stay dead: their rows are settled dead again by the next claim)."""
        statement = update(outbox).where(outbox.c.state == OutboxState.DEAD)
        if kind is not None:
            statement = statement.where(outbox.c.kind == kind)
        if agencies is not None:
            statement = statement.where(about_agencies(outbox.c.dossier_code, agencies))
        result = await self._connection.execute(
            statement.values(
                state=OutboxState.QUEUED, attempts=0, next_attempt_at=now, last_error=None
            )
        )
        return rowcount(result)
