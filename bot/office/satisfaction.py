"""The satisfaction and timeliness page (``/office/``) and its CSV (``/office/satisfaction.csv``).

The figures are `surveys.scoring`'s, unchanged: the ranking, n, the element indices with their
95 % Wilson intervals and the small-sample mark as scoring reports them. The page adds the
12-month trend of the official's scope (scoring's "all" grouping, one month at a time) and
draws the charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.domain.office import StaffAccount
from bot.i18n import Gettext, gettext_for
from bot.office import charts
from bot.office.auth import Office, scope_for, staff_page, visible_agency
from bot.office.render import language_of, render
from surveys.elements import ELEMENTS, element_label
from surveys.periods import Period, parse_period
from surveys.report import NATIONAL_SIPAS_2024, render_csv
from surveys.scoring import ALL, GROUPINGS, Grouping, IndexReport

RANKING_BARS = 25


@dataclass(frozen=True, slots=True)
class Query:
    """What the page was asked for."""

    by: Grouping
    period: Period
    agency: str | None


def period_choices(now: datetime, office: Office) -> list[str]:
    """This year and last, their quarters, and the last 12 months, newest first."""
    local = now.astimezone(office.tz)
    year = local.year
    quarter = (local.month - 1) // 3 + 1
    choices = [str(year)]
    choices += [f"{year}-Q{q}" for q in range(quarter, 0, -1)]
    month = year * 12 + local.month - 1
    choices += [f"{(m // 12):04d}-{(m % 12) + 1:02d}" for m in range(month, month - 12, -1)]
    choices += [str(year - 1)] + [f"{year - 1}-Q{q}" for q in range(4, 0, -1)]
    return choices


def parse_query(request: Request, office: Office, staff: StaffAccount) -> Query:
    """The grouping, period and agency of the request (404 for an agency out of reach)."""
    params = request.query_params
    by = params.get("by") or "agency"
    if by not in GROUPINGS:
        raise HTTPException(404)
    text = params.get("period") or str(office.clock.now().astimezone(office.tz).year)
    try:
        period = parse_period(text)
    except ValueError:
        raise HTTPException(404) from None
    agency = visible_agency(staff, params.get("agency") or None)
    return Query(by, period, agency)


def last_twelve_months(period: Period) -> list[Period]:
    """The 12 months ending with the period's last month."""
    end = (period.last_month // 100) * 12 + period.last_month % 100 - 1
    months = []
    for m in range(end - 11, end + 1):
        year, month = divmod(m, 12)
        months.append(parse_period(f"{year:04d}-{month + 1:02d}"))
    return months


@staff_page()
async def satisfaction_page(request: Request, office: Office, staff: StaffAccount) -> Response:
    """Ranking, elements, trend and timeliness for the official's agencies."""
    query = parse_query(request, office, staff)
    scope = scope_for(staff, query.agency)
    months = last_twelve_months(query.period)
    async with office.read_factory() as uow:
        report = await uow.office.index_report(query.by, query.period, tz=office.tz, agencies=scope)
        trend_reports = [
            await uow.office.index_report(ALL, month, tz=office.tz, agencies=scope)
            for month in months
        ]
        agencies = await uow.office.agencies(staff.scope)
    _ = gettext_for(language_of(request))
    trend_points = []
    for month, monthly in zip(months, trend_reports, strict=True):
        overall = monthly.groups[0] if monthly.groups else None
        label = f"{month.first_month % 100:02d}/{month.first_month // 100 % 100:02d}"
        trend_points.append(
            (label, overall.overall if overall else None, overall.n if overall else 0)
        )
    return render(
        request,
        "satisfaction.html",
        {
            "staff": staff,
            "query": query,
            "report": report,
            "agencies": agencies,
            "periods": period_choices(office.clock.now(), office),
            "groupings": GROUPINGS,
            "elements": [(e, element_label(e, language_of(request))) for e in ELEMENTS],
            "trend": trend_points,
            "charts": _charts(report, trend_points, _),
            "national": NATIONAL_SIPAS_2024,
            "csv_query": request.url.query,
        },
        tz=office.tz,
    )


def _charts(
    report: IndexReport,
    trend_points: list[tuple[str, float | None, int]],
    gettext: Gettext,
) -> dict[str, object]:
    ranked = [g for g in report.groups if g.overall is not None][:RANKING_BARS]
    ranking = charts.ranking(
        [charts.Bar(g.name, g.overall or 0.0, g.small_sample) for g in ranked],
        title=gettext("Satisfaction index ranking, %(period)s") % {"period": report.period.label},
        desc=gettext("Overall index per group, 0 to 100; paler bars have fewer than 30 answers."),
        reference=NATIONAL_SIPAS_2024,
        ref_label="SIPAS 2024",
    )
    trend = charts.trend(
        [(label, value) for label, value, _n in trend_points],
        title=gettext("Satisfaction index over 12 months"),
        desc=gettext("Overall index of every answer in the selection, month by month."),
        reference=NATIONAL_SIPAS_2024,
    )
    timed = [g for g in report.groups if g.timeliness.total][:RANKING_BARS]
    timeliness = charts.stacked_shares(
        [(g.name, (g.timeliness.early, g.timeliness.on_time, g.timeliness.late)) for g in timed],
        legend=(gettext("Early"), gettext("On time"), gettext("Late")),
        title=gettext("Results returned before, on and after the appointment date"),
        desc=gettext("Share of dossiers returned early, on time and late, per group."),
    )
    return {"ranking": ranking, "trend": trend, "timeliness": timeliness if timed else None}


@staff_page()
async def satisfaction_csv(request: Request, office: Office, staff: StaffAccount) -> Response:
    """The ranking shown on the page, as CSV (the same columns as ``motcua index``)."""
    query = parse_query(request, office, staff)
    scope = scope_for(staff, query.agency)
    async with office.read_factory() as uow:
        report = await uow.office.index_report(query.by, query.period, tz=office.tz, agencies=scope)
    name = f"motcua-index-{query.by}-{query.period.label}"
    if query.agency:
        name += f"-{query.agency}"
    return Response(
        render_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
        },
    )
