"""The SQL of the officials' workspace: staff accounts, sessions and audit (`SqlStaffRepository`)
and the pages' reads plus the lookup counter (`SqlOfficeRepository`).

Both work on the connection of an open unit of work (``uow.staff``, ``uow.office``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, insert, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

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
from bot.storage.agency_scope import about_agencies
from bot.storage.dialect import insert_for
from bot.storage.tables import chat_users, dossier_owners, subscriptions
from bot.storage.tables_office import staff_accounts, staff_audit, staff_sessions, usage_daily
from bot.storage.tables_outbox import outbox
from bot.storage.tables_watch import dossier_snapshots

if TYPE_CHECKING:
    from surveys.periods import Period
    from surveys.scoring import Grouping, IndexReport

# `surveys` builds on `bot.storage` (its tables and scoring import it), so its modules are
# imported where they are used, not when this module (reached from `bot.storage`) loads.


def _survey_tables() -> tuple[Any, Any]:
    from surveys.storage.tables import survey_answers, survey_responses

    return survey_answers, survey_responses


_WAITING = sorted(WAITING_STATES)
_FAILED = sorted(FAILED_STATES)


def _account(row: Any) -> StaffAccount:
    return StaffAccount(
        id=int(row.id),
        username=row.username,
        role=row.role,
        agencies=tuple(str(code) for code in (row.agencies or ())),
        active=bool(row.active),
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlStaffRepository:
    """`bot.ports.StaffRepository` on one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

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
        if await self.get(username) is not None:
            return None
        try:
            async with self._connection.begin_nested():
                await self._connection.execute(
                    insert(staff_accounts).values(
                        username=username,
                        password_hash=password_hash,
                        role=role,
                        agencies=sorted(set(agencies)),
                        active=True,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:  # created by someone else meanwhile
            return None
        return await self.get(username)

    async def get(self, username: str) -> StaffAccount | None:
        """The account named `username`, active or not."""
        row = (
            await self._connection.execute(
                select(staff_accounts).where(staff_accounts.c.username == username)
            )
        ).first()
        return None if row is None else _account(row)

    async def accounts(self) -> list[StaffAccount]:
        """Every account, by username."""
        rows = await self._connection.execute(
            select(staff_accounts).order_by(staff_accounts.c.username)
        )
        return [_account(row) for row in rows.all()]

    async def set_active(self, username: str, active: bool, *, now: datetime) -> bool:
        """Enable or disable an account (disabling ends its sessions); False if unknown."""
        found = await self._update(username, {"active": active, "updated_at": now})
        if found and not active:
            await self._end_sessions(username)
        return found

    async def set_password(self, username: str, password_hash: str, *, now: datetime) -> bool:
        """Replace the password hash and end the account's sessions; False if unknown."""
        found = await self._update(username, {"password_hash": password_hash, "updated_at": now})
        if found:
            await self._end_sessions(username)
        return found

    async def _update(self, username: str, values: dict[str, Any]) -> bool:
        result = await self._connection.execute(
            update(staff_accounts).where(staff_accounts.c.username == username).values(**values)
        )
        return bool(result.rowcount)

    async def _end_sessions(self, username: str) -> None:
        ids = select(staff_accounts.c.id).where(staff_accounts.c.username == username)
        await self._connection.execute(
            delete(staff_sessions).where(staff_sessions.c.staff_id.in_(ids.scalar_subquery()))
        )

    async def open_session(
        self, staff_id: int, token_hash: str, *, now: datetime, expires_at: datetime
    ) -> None:
        """Record a signed-in browser under the hash of its session token."""
        await self._connection.execute(
            insert(staff_sessions).values(
                token_hash=token_hash, staff_id=staff_id, created_at=now, expires_at=expires_at
            )
        )

    async def session_account(self, token_hash: str, *, now: datetime) -> StaffAccount | None:
        """The active account of an unexpired session, if any."""
        row = (
            await self._connection.execute(
                select(staff_accounts)
                .join(staff_sessions, staff_sessions.c.staff_id == staff_accounts.c.id)
                .where(
                    staff_sessions.c.token_hash == token_hash,
                    staff_sessions.c.expires_at > now,
                    staff_accounts.c.active.is_(True),
                )
            )
        ).first()
        return None if row is None else _account(row)

    async def close_session(self, token_hash: str) -> None:
        """Sign one browser out."""
        await self._connection.execute(
            delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash)
        )

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete expired sessions; how many."""
        result = await self._connection.execute(
            delete(staff_sessions).where(staff_sessions.c.expires_at <= now)
        )
        return max(result.rowcount, 0)

    async def audit(
        self, username: str, action: str, target: str, *, now: datetime, detail: str = ""
    ) -> None:
        """Write one line of the audit trail."""
        await self._connection.execute(
            insert(staff_audit).values(
                at=now,
                username=username[:64],
                action=action[:64],
                target=target[:255],
                detail=detail[:500],
            )
        )

    async def audit_trail(self, *, limit: int = 100) -> list[AuditEntry]:
        """The newest audit lines first."""
        rows = await self._connection.execute(
            select(staff_audit)
            .order_by(staff_audit.c.at.desc(), staff_audit.c.id.desc())
            .limit(limit)
        )
        return [
            AuditEntry(row.at, row.username, row.action, row.target, row.detail)
            for row in rows.all()
        ]


class dossier_agency(FunctionElement[str]):  # noqa: N801 - SQL function naming
    """The agency code a dossier code starts with (the part before the first "-")."""

    type = String()
    inherit_cache = True


@compiles(dossier_agency, "sqlite")
def _dossier_agency_sqlite(element: dossier_agency, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    code = compiler.process(column, **kw)
    return f"substr({code}, 1, instr({code} || '-', '-') - 1)"


@compiles(dossier_agency, "postgresql")
def _dossier_agency_postgresql(element: dossier_agency, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"split_part({compiler.process(column, **kw)}, '-', 1)"


def _local_day_bounds(first_day: int, last_day: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) instants of local days YYYYMMDD first to last inclusive."""

    def day(value: int) -> date:
        return date(value // 10000, value // 100 % 100, value % 100)

    start = datetime.combine(day(first_day), datetime.min.time(), tzinfo=tz)
    end = datetime.combine(day(last_day) + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def _last_day_of(month: int) -> int:
    """The last day (YYYYMMDD) of month YYYYMM."""
    year, number = divmod(month, 100)
    following = date(year + number // 12, number % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last.year * 10000 + last.month * 100 + last.day


@functools.cache
def _usage_upsert(dialect: str) -> Any:
    # Built once per dialect (`bot.usage` writes every process's tally every few seconds).
    statement = insert_for(dialect, usage_daily)
    return statement.on_conflict_do_update(
        index_elements=[usage_daily.c.day, usage_daily.c.agency_code, usage_daily.c.metric],
        set_={"count": usage_daily.c.count + statement.excluded["count"]},
    )


class SqlOfficeRepository:
    """`bot.ports.OfficeRepository` on one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def index_report(
        self,
        by: Grouping,
        period: Period,
        *,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> IndexReport:
        """The satisfaction index and timeliness (`surveys.scoring`), of `agencies` or all."""
        from surveys.scoring import compute_index
        from surveys.storage.scores import SqlScoreRepository

        scores = SqlScoreRepository(self._connection)
        return await compute_index(scores, by, period, tz=tz, agencies=agencies)

    async def agencies(self, codes: Sequence[str] | None = None) -> list[OfficeAgency]:
        """Agencies with survey or dossier data (of `codes`, or all), by name."""
        _answers, survey_responses = _survey_tables()
        r, s = survey_responses.c, dossier_snapshots.c
        from_responses = select(r.agency_code.label("code"), r.agency_name.label("name"))
        from_snapshots = select(s.agency_code.label("code"), s.agency_name.label("name"))
        if codes is not None:
            from_responses = from_responses.where(r.agency_code.in_(codes))
            from_snapshots = from_snapshots.where(s.agency_code.in_(codes))
        both = union(
            from_responses.group_by(r.agency_code, r.agency_name),
            from_snapshots.group_by(s.agency_code, s.agency_name),
        ).subquery()
        rows = await self._connection.execute(
            select(both.c.code, func.max(both.c.name)).group_by(both.c.code)
        )
        found = {code: name for code, name in rows.all()}
        for code in codes or ():
            found.setdefault(code, code)
        return sorted(
            (OfficeAgency(code, name) for code, name in found.items()),
            key=lambda a: (a.name.casefold(), a.code),
        )

    async def comments(self, query: CommentFilter) -> list[SurveyComment]:
        """Written survey comments, newest first, with the scores of the same response."""
        survey_answers, survey_responses = _survey_tables()
        a, r = survey_answers.c, survey_responses.c
        statement = (
            select(
                a.response_id,
                a.period_month,
                a.element,
                a.comment,
                r.agency_code,
                r.agency_name,
                r.procedure_code,
                r.procedure_name,
            )
            .join(survey_responses, r.id == a.response_id)
            .where(
                a.kind == "text",
                a.comment.is_not(None),
                a.period_month.between(query.first_month, query.last_month),
            )
            .order_by(a.period_month.desc(), a.id.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
        if query.agencies is not None:
            statement = statement.where(a.agency_code.in_(query.agencies))
        if query.procedure:
            statement = statement.where(a.procedure_code == query.procedure)
        if query.search:
            pattern = "%" + query.search.replace("\\", "\\\\").replace("%", "\\%") + "%"
            statement = statement.where(
                func.lower(a.comment).like(pattern.lower().replace("_", "\\_"), escape="\\")
            )
        if query.low_scores_only:
            low = survey_answers.alias("low")
            statement = statement.where(
                exists().where(
                    low.c.response_id == a.response_id,
                    low.c.kind == "scale5",
                    low.c.score <= 2,
                )
            )
        if query.feedback_unhappy_only:
            unhappy = survey_answers.alias("unhappy")
            statement = statement.where(
                exists().where(
                    unhappy.c.response_id == a.response_id,
                    unhappy.c.kind == "scale5",
                    unhappy.c.element == "feedback",
                    unhappy.c.score <= 3,
                )
            )
        rows = (await self._connection.execute(statement)).all()
        if not rows:
            return []
        scores: dict[int, dict[str, int]] = {}
        quick: dict[int, int] = {}
        score_rows = await self._connection.execute(
            select(a.response_id, a.kind, a.element, a.score).where(
                a.response_id.in_({row.response_id for row in rows}),
                a.kind.in_(("scale5", "rating3")),
                a.score.is_not(None),
            )
        )
        for response_id, kind, element, score in score_rows.all():
            if kind == "rating3":
                quick[response_id] = int(score)
            elif element:
                scores.setdefault(response_id, {})[element] = int(score)
        return [
            SurveyComment(
                response_id=row.response_id,
                period_month=int(row.period_month),
                agency_code=row.agency_code,
                agency_name=row.agency_name,
                procedure_code=row.procedure_code,
                procedure_name=row.procedure_name,
                element=row.element,
                text=row.comment,
                scores=scores.get(row.response_id, {}),
                quick=quick.get(row.response_id),
            )
            for row in rows
        ]

    async def delivery(
        self, *, agencies: Sequence[str] | None, now: datetime, failures: int = 20
    ) -> DeliverySummary:
        """The outbox by state and channel, the oldest queued push, the last failures."""
        o, u = outbox.c, chat_users.c
        scope = () if agencies is None else (about_agencies(o.dossier_code, agencies),)
        joined = outbox.join(chat_users, u.id == o.user_id)
        counts = await self._connection.execute(
            select(o.state, u.channel, func.count())
            .select_from(joined)
            .where(*scope)
            .group_by(o.state, u.channel)
        )
        oldest = await self._connection.execute(
            select(func.min(o.next_attempt_at)).where(
                o.state.in_(_WAITING), o.next_attempt_at <= now, *scope
            )
        )
        failed = await self._connection.execute(
            select(
                o.id,
                o.kind,
                u.channel,
                o.state,
                o.attempts,
                o.last_error,
                o.next_attempt_at,
                o.dossier_code,
            )
            .select_from(joined)
            .where(o.state.in_(_FAILED), o.last_error.is_not(None), *scope)
            .order_by(o.next_attempt_at.desc(), o.id.desc())
            .limit(failures)
        )
        return DeliverySummary(
            counts={(state, channel): int(n) for state, channel, n in counts.all()},
            oldest_queued_at=oldest.scalar_one_or_none(),
            failures=tuple(
                FailedPush(
                    id=int(row.id),
                    kind=row.kind,
                    channel=row.channel,
                    state=row.state,
                    attempts=int(row.attempts),
                    error=row.last_error or "",
                    at=row.next_attempt_at,
                    dossier_code=row.dossier_code,
                )
                for row in failed.all()
            ),
        )

    async def usage(
        self, *, first_day: int, last_day: int, agencies: Sequence[str] | None, tz: ZoneInfo
    ) -> UsageReport:
        """Lookups per local day (YYYYMMDD), citizens, followers and surveys per agency."""
        start, end = _local_day_bounds(first_day, last_day, tz)
        # Survey answers keep only their month (design §6): the survey figures cover the
        # calendar months the span touches, invitations sent and responses alike.
        first_month, last_month = first_day // 100, last_day // 100
        months_start, months_end = _local_day_bounds(
            first_month * 100 + 1, _last_day_of(last_month), tz
        )
        per_agency: dict[str, dict[str, int]] = {}

        def add(metric: str, rows: Sequence[Any]) -> None:
            for code, count in rows:
                per_agency.setdefault(str(code), {})[metric] = int(count or 0)

        d = usage_daily.c
        lookups = select(d.day, d.agency_code, d.count).where(
            d.metric == "lookup", d.day.between(first_day, last_day)
        )
        if agencies is not None:
            lookups = lookups.where(d.agency_code.in_(agencies))
        per_day: dict[int, int] = {}
        lookup_rows = (await self._connection.execute(lookups)).all()
        for day, code, count in lookup_rows:
            per_day[int(day)] = per_day.get(int(day), 0) + int(count)
            totals = per_agency.setdefault(str(code), {})
            totals["lookups"] = totals.get("lookups", 0) + int(count)

        def scoped(column: Any) -> tuple[Any, ...]:
            return () if agencies is None else (about_agencies(column, agencies),)

        own = dossier_owners.c
        owner_agency = dossier_agency(own.dossier_code)
        add(
            "verified_citizens",
            (
                await self._connection.execute(
                    select(owner_agency, func.count(func.distinct(own.user_id)))
                    .where(
                        own.verified_at >= start,
                        own.verified_at < end,
                        *scoped(own.dossier_code),
                    )
                    .group_by(owner_agency)
                )
            ).all(),
        )
        sub = subscriptions.c
        sub_agency = dossier_agency(sub.dossier_code)
        add(
            "followed_dossiers",
            (
                await self._connection.execute(
                    select(sub_agency, func.count(func.distinct(sub.dossier_code)))
                    .where(sub.active.is_(True), *scoped(sub.dossier_code))
                    .group_by(sub_agency)
                )
            ).all(),
        )
        o = outbox.c
        sent_agency = dossier_agency(o.dossier_code)
        add(
            "surveys_sent",
            (
                await self._connection.execute(
                    select(sent_agency, func.count())
                    .where(
                        o.kind == NoticeKind.SURVEY_INVITATION,
                        o.state == OutboxState.SENT,
                        o.sent_at >= months_start,
                        o.sent_at < months_end,
                        *scoped(o.dossier_code),
                    )
                    .group_by(sent_agency)
                )
            ).all(),
        )
        r = _survey_tables()[1].c
        answered = (
            select(r.agency_code, func.count())
            .where(r.period_month.between(first_month, last_month))
            .group_by(r.agency_code)
        )
        if agencies is not None:
            answered = answered.where(r.agency_code.in_(agencies))
        add("surveys_answered", (await self._connection.execute(answered)).all())
        rows = tuple(
            AgencyUsage(
                agency_code=code,
                lookups=figures.get("lookups", 0),
                verified_citizens=figures.get("verified_citizens", 0),
                followed_dossiers=figures.get("followed_dossiers", 0),
                surveys_sent=figures.get("surveys_sent", 0),
                surveys_answered=figures.get("surveys_answered", 0),
            )
            for code, figures in sorted(per_agency.items())
            if code and (agencies is None or code in agencies)
        )
        return UsageReport(first_day, last_day, per_day, rows)

    async def add_lookups(self, counts: Mapping[str, int], *, day: int) -> None:
        """Add `counts` ({agency code: lookups}) to local day `day` (YYYYMMDD)."""
        merged: dict[str, int] = {}
        for code, n in counts.items():
            merged[code[:64]] = merged.get(code[:64], 0) + n
        if not merged:
            return
        statement = _usage_upsert(self._connection.dialect.name)
        await self._connection.execute(
            statement,
            [
                {"day": day, "agency_code": code, "metric": "lookup", "count": n}
                for code, n in sorted(merged.items())
            ],
        )
