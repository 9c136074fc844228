"""A deterministic district-year of dossiers for the simulator.

`generate(seed, count, now)` draws `count` dossiers received at the district's counters over
the working year ending at `now`, plays each one's life forward (reception, processing,
supplement requests, financial obligations, extensions, result, handover) and keeps the
state each one is in at `now`. Old dossiers are mostly returned; recent ones are at every
stage. The same seed and `now` give the same data.

Timeliness follows the shape of the seed reports (Thới Bình 2016: district 994 early, 963 on
time, 70 late; communes overwhelmingly on time); late dossiers are partly extended with an
apology and a new appointment.
"""

from __future__ import annotations

import gc
import math
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from bot.caseapi.simulator import catalog
from bot.caseapi.simulator.catalog import CatalogAgency, CatalogProcedure, Level
from bot.caseapi.simulator.people import People
from bot.caseapi.simulator.record import SimDossier
from bot.caseapi.simulator.weighted import Weighted, between, pick
from bot.caseapi.simulator.worktime import DAY, day_end, from_ws, local_now, to_ws
from bot.domain.status import Status

YEAR_DAYS = 261
"""Working days in a year."""

ONLINE_SHARE = 0.15
"""Share of dossiers submitted on the public service portal before reception."""

_TIMELINESS = {
    # (early, early + on time); the rest is late
    Level.DISTRICT: (0.47, 0.93),
    Level.COMMUNE: (0.12, 0.98),
}
_POST_SHARE = {Level.DISTRICT: 0.12, Level.COMMUNE: 0.06}
_EXTENDED_SHARE = 0.6
_WITHDRAWN_SHARE = 0.003
_STOPPED_SHARE = 0.002
_REJECTED_ONLINE_SHARE = 0.04
_SUPPLEMENT_LAPSE_SHARE = 0.12
_UNCOLLECTED_SHARE = 0.01
_PAYMENT_SHARE = 0.7

# Event kinds of a dossier's life, in the order they may happen.
_RECEIVED, _NOT_ACCEPTED, _PROCESSING, _SUPPLEMENT, _RESUMED, _PAYMENT = 0, 1, 2, 3, 4, 5
_PAID, _EXTENDED, _READY, _RETURNED, _WITHDRAWN, _STOPPED = 6, 7, 8, 9, 10, 11

_STATUS_OF = {
    _RECEIVED: Status.RECEIVED,
    _NOT_ACCEPTED: Status.NOT_ACCEPTED,
    _PROCESSING: Status.PROCESSING,
    _SUPPLEMENT: Status.SUPPLEMENT_REQUIRED,
    _RESUMED: Status.PROCESSING,
    _PAYMENT: Status.PAYMENT_REQUIRED,
    _PAID: Status.PROCESSING,
    _READY: Status.READY,
    _RETURNED: Status.RETURNED,
    _WITHDRAWN: Status.WITHDRAWN,
    _STOPPED: Status.STOPPED,
}

Event = tuple[int, int, int, str | None]
"""(working second, kind, a number: due day or amount, a text: the note)."""


class _Choices:
    """Precomputed weighted choices of agencies and procedures per level."""

    def __init__(self) -> None:
        self.communes = Weighted([(a, a.weight) for a in catalog.COMMUNES])
        self.procedures = {
            level: Weighted([(p, p.weight) for p in catalog.PROCEDURES if p.level is level])
            for level in Level
        }
        self.supplement_notes = {
            p.field: catalog.supplement_notes(p.field) for p in catalog.PROCEDURES
        }


_CHOICES = _Choices()


def generate(seed: int = 1, count: int = 90_000, now: datetime | None = None) -> list[SimDossier]:
    """`count` dossiers of a district-year ending at `now` (default: the current time)."""
    # Hundreds of thousands of new objects, none of them in a cycle: the cyclic collector
    # would only re-scan them over and over (about a tenth of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, count, now)
    finally:
        if collecting:
            gc.enable()


def _generate(seed: int, count: int, now: datetime | None) -> list[SimDossier]:
    rng = random.Random(seed)
    rnd = rng.random
    people = People(rng)
    now_ws = to_ws(local_now(now or datetime.now(UTC)))
    first_ws = max(0, now_ws - YEAR_DAYS * DAY)
    span = now_ws - first_ws
    communes, procedures = _CHOICES.communes, _CHOICES.procedures
    district, district_share = catalog.DISTRICT, catalog.DISTRICT_SHARE
    dossiers: list[SimDossier] = []
    order: list[tuple[str, str, datetime, int]] = []
    for index in range(count):
        agency = district if rnd() < district_share else communes.pick(rnd)
        procedure = procedures[agency.level].pick(rnd)
        base = first_ws + int(rnd() * span)
        submitted_at: datetime | None = None
        if rnd() < ONLINE_SHARE:
            # Filed on the portal, at any hour, before the counter took it in.
            submitted_at = from_ws(base) - timedelta(seconds=between(rnd, 60, 12 * 3600))
            received_ws = base + between(rnd, 1800, DAY)
        else:
            received_ws = base
        events = _life(rnd, procedure, received_ws, online=submitted_at is not None)
        post = rnd() < _POST_SHARE[agency.level]
        dossier = _snapshot(rnd, people, agency, procedure, events, submitted_at, now_ws)
        if dossier.status is Status.NOT_ACCEPTED:
            dossier.fee = None
        elif post:
            dossier.delivery = "post"
            dossier.pickup = False
        dossiers.append(dossier)
        opened = submitted_at or dossier.received_at
        assert opened is not None, "a dossier entered at the counter is received at once"
        day = f"{opened.year % 100:02d}{opened.month:02d}{opened.day:02d}"
        order.append((agency.code, day, opened, index))
    _number(dossiers, order)
    return dossiers


def _life(
    rnd: Callable[[], float], procedure: CatalogProcedure, received_ws: int, *, online: bool
) -> list[Event]:
    """The events of one dossier's life from reception on, sorted by time."""
    if online and rnd() < _REJECTED_ONLINE_SHARE:
        return [(received_ws, _NOT_ACCEPTED, 0, pick(rnd, catalog.NOT_ACCEPTED_NOTES))]
    days = procedure.days
    due_day = received_ws // DAY + days
    events: list[Event] = [(received_ws, _RECEIVED, due_day, None)]
    if days == 0:
        t = received_ws + between(rnd, 60, 600)
    else:
        t = received_ws + between(rnd, 600, 4 * 3600)
    events.append((t, _PROCESSING, 0, None))

    if procedure.supplement and rnd() < procedure.supplement:
        asked = t + between(rnd, 600, 600 + min(days, 6) * DAY // 2 + 1)
        note = pick(rnd, _CHOICES.supplement_notes[procedure.field])
        events.append((asked, _SUPPLEMENT, 0, note))
        if rnd() < _SUPPLEMENT_LAPSE_SHARE:
            lapsed = asked + 30 * DAY + int(rnd() * DAY)
            events.append((lapsed, _STOPPED, 0, catalog.LAPSED_SUPPLEMENT_NOTE))
            return events
        t = asked + between(rnd, DAY // 4, 8 * DAY)
        due_day = t // DAY + days  # the dossier is complete again: the time restarts
        events.append((t, _RESUMED, due_day, None))

    due_end = (due_day + 1) * DAY
    draw = rnd()
    if draw < _WITHDRAWN_SHARE + _STOPPED_SHARE:
        ends = t + between(rnd, 60, max(120, due_end - t))
        if draw < _WITHDRAWN_SHARE:
            events.append((ends, _WITHDRAWN, 0, catalog.WITHDRAWN_NOTE))
        else:
            events.append((ends, _STOPPED, 0, pick(rnd, catalog.STOPPED_NOTES[1:])))
        return events

    early, on_time = _TIMELINESS[procedure.level]
    extended_too = False
    draw = rnd()
    if days == 0:
        ready = t + between(rnd, 600, 5400)
        if draw < on_time:
            ready = max(t + 60, min(ready, due_end - 60))
    elif draw < early and due_day * DAY > t + 600:
        ready = between(rnd, t + 600, due_day * DAY)
    elif draw < on_time:
        low = max(t + 600, due_day * DAY)
        ready = between(rnd, low, due_end - 60) if due_end - 60 > low else low
    else:
        late_days = 1 + min(int(-math.log(1.0 - rnd()) / 0.35), 20)
        ready = max(t + 600, (due_day + late_days) * DAY + int(rnd() * (DAY - 60)))
        if rnd() < _EXTENDED_SHARE:
            extended = max(t + 60, due_end - between(rnd, DAY // 2, 3 * DAY))
            new_due = ready // DAY + int(rnd() * 3)
            events.append((extended, _EXTENDED, new_due, None))
            extended_too = True

    paying = procedure.obligation is not None and rnd() < _PAYMENT_SHARE
    if paying:
        assert procedure.obligation is not None
        low, high = procedure.obligation
        amount = round(low + (high - low) * rnd(), -3)
        asked = t + int((ready - t) * (0.3 + 0.3 * rnd()))
        paid = asked + int((ready - asked) * (0.2 + 0.5 * rnd()))
        events.append((asked, _PAYMENT, int(amount), pick(rnd, catalog.PAYMENT_NOTES)))
        events.append((paid, _PAID, 0, None))

    events.append((ready, _READY, 0, None))
    if rnd() >= _UNCOLLECTED_SHARE:
        if days == 0:
            events.append((ready + between(rnd, 0, 1800), _RETURNED, 0, None))
        else:
            draw = rnd()
            if draw < 0.35:
                wait = between(rnd, 600, 2 * 3600)
            elif draw < 0.8:
                wait = between(rnd, DAY, 4 * DAY)
            else:
                wait = between(rnd, 4 * DAY, 15 * DAY)
            events.append((ready + wait, _RETURNED, 0, None))
    if extended_too and paying:
        # Both lie between processing and the result, but may interleave.
        events.sort(key=itemgetter(0))
    return events


def _snapshot(
    rnd: Callable[[], float],
    people: People,
    agency: CatalogAgency,
    procedure: CatalogProcedure,
    events: list[Event],
    submitted_at: datetime | None,
    now_ws: int,
) -> SimDossier:
    """The dossier as it stands at working second `now_ws`."""
    status = Status.SUBMITTED
    changed_ws = received_ws = returned_ws = -1
    due_day = original_day = -1
    fee = procedure.fee
    if fee is not None and procedure.fee_per_page:
        fee *= 1 + min(int(-math.log(1.0 - rnd()) / 0.45), 19)
    note: str | None = None
    for ws, kind, number, text in events:
        if ws >= now_ws:
            break
        if kind == _EXTENDED:
            if original_day < 0:
                original_day = due_day
            due_day = number
            note = catalog.apology(agency, day_end(due_day).strftime("%d/%m/%Y"))
            continue
        status = _STATUS_OF[kind]
        changed_ws = ws
        note = text
        if kind == _RECEIVED:
            received_ws, due_day = ws, number
        elif kind == _RESUMED:
            due_day = number
        elif kind == _PAYMENT:
            fee = number
        elif kind == _RETURNED:
            returned_ws = ws
    changed_at = from_ws(changed_ws) if changed_ws >= 0 else submitted_at
    if returned_ws >= 0:
        returned_at: datetime | None = (
            changed_at if returned_ws == changed_ws else from_ws(returned_ws)
        )
    else:
        returned_at = None
    assert changed_at is not None, "a dossier not yet received was submitted online"
    # Positional arguments: this runs 90,000 times and keyword passing costs measurably.
    return SimDossier(
        "",
        status,
        changed_at,
        procedure,
        agency,
        people.name(),
        people.phone(),
        people.pin(),
        from_ws(received_ws) if received_ws >= 0 else None,
        day_end(due_day) if due_day >= 0 else None,
        day_end(original_day) if original_day >= 0 else None,
        returned_at,
        "counter",
        status is Status.READY or status is Status.RETURNED,
        fee,
        note,
    )


def _number(dossiers: list[SimDossier], order: list[tuple[str, str, datetime, int]]) -> None:
    """Give each dossier its code: agency, date opened, daily sequence per agency."""
    order.sort()
    sequence: defaultdict[tuple[str, str], int] = defaultdict(int)
    for agency_code, day, _opened, index in order:
        key = (agency_code, day)
        sequence[key] += 1
        dossiers[index].code = f"{agency_code}-{day}-{sequence[key]:04d}"
