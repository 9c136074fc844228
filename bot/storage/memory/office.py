"""The officials' workspace's repositories in memory: the twins of `bot.storage.office`.

They read and write the same `MemoryTables` as the rest of the in-memory unit of work, so the
conformance suite (tests/storage/test_conformance_office.py) holds them to what the SQL
adapters do. The index is computed here from the stored answers with the formula of design §7
(`surveys.scoring` computes the same in SQL); the suite compares the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.notice_kinds import NoticeKind
from bot.domain.office import (
    AgencyUsage,
    AuditEntry,
    CommentFilter,
    DeliverySummary,
    FailedPush,
    OfficeAgency,
    Role,
    StaffAccount,
    SurveyComment,
    UsageReport,
)
from bot.domain.outbox import FAILED_STATES, WAITING_STATES, OutboxState
from bot.storage.memory.database import MemoryTables
from bot.storage.memory.scores import MemoryScoreRepository

if TYPE_CHECKING:
    from surveys.periods import Period
    from surveys.scoring import Grouping, IndexReport


def _in_scope(code: str | None, agencies: Sequence[str] | None) -> bool:
    return agencies is None or (code is not None and code in agencies)


def _dossier_agency(dossier_code: str | None) -> str:
    return (dossier_code or "").partition("-")[0]


class MemoryStaffRepository:
    """`bot.ports.StaffRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables.office

    async def add(
        self,
        username: str,
        *,
        password_hash: str,
        role: Role,
        agencies: Sequence[str],
        now: datetime,
    ) -> StaffAccount | None:
        """Create an active account; None when the username is taken."""
        if username in self._t.accounts:
            return None
        account = StaffAccount(
            id=self._t.next_account_id,
            username=username,
            role=role,
            agencies=tuple(sorted(set(agencies))),
            active=True,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        self._t.next_account_id += 1
        self._t.accounts[username] = account
        return account

    async def get(self, username: str) -> StaffAccount | None:
        """The account named `username`, active or not."""
        return self._t.accounts.get(username)

    async def accounts(self) -> list[StaffAccount]:
        """Every account, by username."""
        return [self._t.accounts[name] for name in sorted(self._t.accounts)]

    def _replace(self, username: str, **changes: Any) -> bool:
        account = self._t.accounts.get(username)
        if account is None:
            return False
        self._t.accounts[username] = dataclasses.replace(account, **changes)
        return True

    def _end_sessions(self, username: str) -> None:
        staff_id = self._t.accounts[username].id
        for token in [t for t, (sid, _e) in self._t.sessions.items() if sid == staff_id]:
            del self._t.sessions[token]

    async def set_active(self, username: str, active: bool, *, now: datetime) -> bool:
        """Enable or disable an account (disabling ends its sessions); False if unknown."""
        found = self._replace(username, active=active, updated_at=now)
        if found and not active:
            self._end_sessions(username)
        return found

    async def set_password(self, username: str, password_hash: str, *, now: datetime) -> bool:
        """Replace the password hash and end the account's sessions; False if unknown."""
        found = self._replace(username, password_hash=password_hash, updated_at=now)
        if found:
            self._end_sessions(username)
        return found

    async def open_session(
        self, staff_id: int, token_hash: str, *, now: datetime, expires_at: datetime
    ) -> None:
        """Record a signed-in browser under the hash of its session token."""
        self._t.sessions[token_hash] = (staff_id, expires_at)

    async def session_account(self, token_hash: str, *, now: datetime) -> StaffAccount | None:
        """The active account of an unexpired session, if any."""
        found = self._t.sessions.get(token_hash)
        if found is None or found[1] <= now:
            return None
        for account in self._t.accounts.values():
            if account.id == found[0] and account.active:
                return account
        return None

    async def close_session(self, token_hash: str) -> None:
        """Sign one browser out."""
        self._t.sessions.pop(token_hash, None)

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete expired sessions; how many."""
        old = [t for t, (_s, expires) in self._t.sessions.items() if expires <= now]
        for token in old:
            del self._t.sessions[token]
        return len(old)

    async def audit(
        self, username: str, action: str, target: str, *, now: datetime, detail: str = ""
    ) -> None:
        """Write one line of the audit trail."""
        self._t.audit.append(
            AuditEntry(now, username[:64], action[:64], target[:255], detail[:500])
        )

    async def audit_trail(self, *, limit: int = 100) -> list[AuditEntry]:
        """The newest audit lines first."""
        ordered = sorted(enumerate(self._t.audit), key=lambda p: (p[1].at, p[0]), reverse=True)
        return [entry for _i, entry in ordered[:limit]]


class MemoryOfficeRepository:
    """`bot.ports.OfficeRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._all = tables
        self._t = tables.office

    async def index_report(
        self,
        by: Grouping,
        period: Period,
        *,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> IndexReport:
        """The index of design §7 over the stored answers (and timeliness of snapshots), from
        the same figures as `uow.scores` gives."""
        from surveys.scoring import compute_index

        scores = MemoryScoreRepository(self._all)
        return await compute_index(scores, by, period, tz=tz, agencies=agencies)

    async def agencies(self, codes: Sequence[str] | None = None) -> list[OfficeAgency]:
        """Agencies with survey or dossier data (of `codes`, or all), by name."""
        found: dict[str, str] = {}
        for response in self._all.responses.values():
            found[response.facts.agency_code] = response.facts.agency_name
        for snap in self._all.snapshots.values():
            found.setdefault(snap.agency_code, snap.agency_name)
        if codes is not None:
            found = {c: found.get(c, c) for c in codes}
        return sorted(
            (OfficeAgency(c, n) for c, n in found.items()),
            key=lambda a: (a.name.casefold(), a.code),
        )

    async def comments(self, query: CommentFilter) -> list[SurveyComment]:
        """Written survey comments, newest first, with the scores of the same response."""
        by_response: dict[int, list[Any]] = {}
        for answer in self._all.answers.values():
            by_response.setdefault(answer.key.response_id, []).append(answer)
        found: list[tuple[int, int, int, SurveyComment]] = []
        for order, answer in enumerate(self._all.answers.values()):
            k, text = answer.key, answer.fields.get("comment")
            if answer.fields["kind"] != "text" or text is None:
                continue
            if not query.first_month <= k.period_month <= query.last_month:
                continue
            if not _in_scope(k.agency_code, query.agencies):
                continue
            if query.procedure and k.procedure_code != query.procedure:
                continue
            if query.search and query.search.lower() not in text.lower():
                continue
            siblings = by_response[k.response_id]
            scale = {
                a.fields["element"]: int(a.fields["score"])
                for a in siblings
                if a.fields["kind"] == "scale5" and a.fields["score"] is not None
            }
            quick = [int(a.fields["score"]) for a in siblings if a.fields["kind"] == "rating3"]
            if query.low_scores_only and not any(v <= 2 for v in scale.values()):
                continue
            if query.feedback_unhappy_only and not scale.get("feedback", 9) <= 3:
                continue
            facts = self._all.responses[k.response_id].facts
            comment = SurveyComment(
                response_id=k.response_id,
                period_month=k.period_month,
                agency_code=facts.agency_code,
                agency_name=facts.agency_name,
                procedure_code=facts.procedure_code,
                procedure_name=facts.procedure_name,
                element=answer.fields.get("element"),
                text=text,
                scores=scale,
                quick=quick[0] if quick else None,
            )
            found.append((k.period_month, k.response_id, order, comment))
        found.sort(key=lambda item: item[:3], reverse=True)
        return [item[3] for item in found[query.offset : query.offset + query.limit]]

    async def delivery(
        self, *, agencies: Sequence[str] | None, now: datetime, failures: int = 20
    ) -> DeliverySummary:
        """The outbox by state and channel, the oldest queued push, the last failures."""
        rows = [
            r
            for r in self._all.outbox.values()
            if agencies is None or (_dossier_agency(r.dossier_code) in agencies and r.dossier_code)
        ]
        counts: dict[tuple[str, str], int] = {}
        waiting: list[datetime] = []
        failed: list[FailedPush] = []
        for row in rows:
            channel = self._all.users[row.user_id].channel
            state = OutboxState(row.state)
            counts[(state.value, channel)] = counts.get((state.value, channel), 0) + 1
            if state in WAITING_STATES and row.next_attempt_at <= now:
                waiting.append(row.next_attempt_at)
            if state in FAILED_STATES and row.last_error is not None:
                failed.append(
                    FailedPush(row.id, row.kind, channel, state, row.attempts, row.last_error,
                               row.next_attempt_at, row.dossier_code)
                )  # fmt: skip
        failed.sort(key=lambda f: (f.at, f.id), reverse=True)
        return DeliverySummary(counts, min(waiting, default=None), tuple(failed[:failures]))

    async def usage(
        self, *, first_day: int, last_day: int, agencies: Sequence[str] | None, tz: ZoneInfo
    ) -> UsageReport:
        """Lookups per local day (YYYYMMDD), citizens, followers and surveys per agency."""
        first = date(first_day // 10000, first_day // 100 % 100, first_day % 100)
        last = date(last_day // 10000, last_day // 100 % 100, last_day % 100)
        start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        figures: dict[str, dict[str, int]] = {}
        per_day: dict[int, int] = {}

        def add(code: str, metric: str, n: int = 1) -> None:
            if code and _in_scope(code, agencies):
                bucket = figures.setdefault(code, {})
                bucket[metric] = bucket.get(metric, 0) + n

        for (day, code, metric), n in self._t.usage.items():
            if metric == "lookup" and first_day <= day <= last_day and _in_scope(code, agencies):
                per_day[day] = per_day.get(day, 0) + n
                add(code, "lookups", n)
        verified: dict[str, set[int]] = {}
        for (user_id, code), owner in self._all.owners.items():
            if start <= owner.verified_at < end:
                verified.setdefault(_dossier_agency(code), set()).add(user_id)
        for code, users in verified.items():
            add(code, "verified_citizens", len(users))
        followed: dict[str, set[str]] = {}
        for (_u, code), sub in self._all.subscriptions.items():
            if sub.active:
                followed.setdefault(_dossier_agency(code), set()).add(code)
        for code, codes in followed.items():
            add(code, "followed_dossiers", len(codes))
        # Survey answers keep only their month: survey figures cover the span's months.
        first_month, last_month = first_day // 100, last_day // 100
        months_start = datetime.combine(first.replace(day=1), datetime.min.time(), tzinfo=tz)
        after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        months_end = datetime.combine(after, datetime.min.time(), tzinfo=tz)
        for row in self._all.outbox.values():
            if (
                row.kind == NoticeKind.SURVEY_INVITATION
                and OutboxState(row.state) is OutboxState.SENT
                and row.sent_at is not None
                and months_start <= row.sent_at < months_end
            ):
                add(_dossier_agency(row.dossier_code), "surveys_sent")
        for response in self._all.responses.values():
            if first_month <= response.period_month <= last_month:
                add(response.facts.agency_code, "surveys_answered")
        rows = tuple(
            AgencyUsage(
                agency_code=code,
                lookups=f.get("lookups", 0),
                verified_citizens=f.get("verified_citizens", 0),
                followed_dossiers=f.get("followed_dossiers", 0),
                surveys_sent=f.get("surveys_sent", 0),
                surveys_answered=f.get("surveys_answered", 0),
            )
            for code, f in sorted(figures.items())
        )
        return UsageReport(first_day, last_day, per_day, rows)

    async def add_lookups(self, counts: Mapping[str, int], *, day: int) -> None:
        """Add `counts` ({agency code: lookups}) to local day `day` (YYYYMMDD)."""
        for code, n in counts.items():
            key = (day, code[:64], "lookup")
            self._t.usage[key] = self._t.usage.get(key, 0) + n
