"""The simulated case system's memory: dossiers, their secrets, and the change log.

`SimulatorState.move` is the one way a dossier changes after generation. It keeps the dossier
coherent (status code and time, reception and appointment, pickup, fee, note, extension) and
appends the change to a log with a monotonically increasing sequence number, which feeds
`GET /v1/changes` and the signed pushes.
"""

from __future__ import annotations

import hmac
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from heapq import nlargest
from operator import attrgetter

from bot.caseapi.simulator import catalog
from bot.caseapi.simulator.catalog import CatalogAgency, CatalogProcedure, Level
from bot.caseapi.simulator.people import People, normalize_phone
from bot.caseapi.simulator.record import Delivery, SimDossier
from bot.caseapi.simulator.worktime import due_after, local_now
from bot.domain.status import Status

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.RECEIVED, S.NOT_ACCEPTED, S.WITHDRAWN}),
    S.RECEIVED: frozenset(
        {S.PROCESSING, S.SUPPLEMENT_REQUIRED, S.PAYMENT_REQUIRED, S.READY, S.WITHDRAWN, S.STOPPED}
    ),
    S.PROCESSING: frozenset(
        {S.SUPPLEMENT_REQUIRED, S.PAYMENT_REQUIRED, S.READY, S.WITHDRAWN, S.STOPPED}
    ),
    S.SUPPLEMENT_REQUIRED: frozenset({S.RECEIVED, S.PROCESSING, S.WITHDRAWN, S.STOPPED}),
    S.PAYMENT_REQUIRED: frozenset({S.PROCESSING, S.READY, S.WITHDRAWN, S.STOPPED}),
    S.READY: frozenset({S.RETURNED}),
    S.NOT_ACCEPTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.STOPPED: frozenset(),
    S.RETURNED: frozenset(),
}
"""Which status may follow which (the portal's workflow)."""

EXTENDABLE = frozenset({S.RECEIVED, S.PROCESSING, S.SUPPLEMENT_REQUIRED, S.PAYMENT_REQUIRED})
"""Statuses in which the appointment date can still be moved (gia hạn)."""

ACTIVE: tuple[Status, ...] = tuple(s for s in Status if TRANSITIONS[s])
"""Statuses from which a dossier can still move."""

_DEFAULT_NOTES: dict[Status, Callable[[random.Random, SimDossier], str]] = {
    S.NOT_ACCEPTED: lambda rng, d: rng.choice(catalog.NOT_ACCEPTED_NOTES),
    S.SUPPLEMENT_REQUIRED: lambda rng, d: rng.choice(catalog.supplement_notes(d.procedure.field)),
    S.PAYMENT_REQUIRED: lambda rng, d: rng.choice(catalog.PAYMENT_NOTES),
    S.WITHDRAWN: lambda rng, d: catalog.WITHDRAWN_NOTE,
    S.STOPPED: lambda rng, d: rng.choice(catalog.STOPPED_NOTES),
}

ChangeListener = Callable[[int, SimDossier], None]
"""Called with (sequence number, dossier) after every change."""


class UnknownDossier(KeyError):
    """No dossier has that code."""


class InvalidTransition(ValueError):
    """The requested status cannot follow the dossier's current one."""


class InvalidRequest(ValueError):
    """A change request that makes no sense (bad extension date, unknown procedure…)."""


class BadCursor(ValueError):
    """A changes cursor this simulator did not issue."""


@dataclass(frozen=True, slots=True)
class SimChangesPage:
    """Dossiers changed after a cursor, and the cursor to poll with next: the simulator's
    records, before they are served (the client's page is `bot.ports.ChangesPage`)."""

    items: list[SimDossier]
    cursor: str


class SimulatorState:
    """All dossiers of the simulated case system, indexed by code and by status."""

    def __init__(self, dossiers: Iterable[SimDossier], *, seed: int = 0) -> None:
        self._by_code: dict[str, SimDossier] = {}
        self._by_status: dict[Status, dict[str, None]] = {s: {} for s in Status}
        self._sequences: dict[tuple[str, str], int] = {}
        for dossier in dossiers:
            self._add(dossier)
        self._log: list[str] = []  # the code changed by change number i + 1
        self._listeners: list[ChangeListener] = []
        self._rng = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:8]
        """Distinguishes this run's cursors and event ids from another run's."""

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[SimDossier]:
        return iter(self._by_code.values())

    def get(self, code: str) -> SimDossier | None:
        """The dossier with `code`, if any."""
        return self._by_code.get(code)

    def verify(self, code: str, *, pin: str | None = None, phone: str | None = None) -> bool:
        """Whether `pin` or `phone` (any usual spelling) belongs to dossier `code`."""
        dossier = self._require(code)
        if pin is not None:
            return hmac.compare_digest(pin.strip().encode(), dossier.pin.encode())
        if phone is not None:
            given = normalize_phone(phone)
            return given is not None and hmac.compare_digest(given, dossier.phone)
        return False

    def codes_in(self, statuses: Iterable[Status]) -> list[str]:
        """The codes of the dossiers in any of `statuses`."""
        return [code for status in statuses for code in self._by_status[status]]

    def count(self, status: Status) -> int:
        """How many dossiers are in `status`."""
        return len(self._by_status[status])

    def samples(self, status: Status | None = None, limit: int = 10) -> list[SimDossier]:
        """The most recently changed dossiers (in `status`, if given), newest first."""
        if status is None:
            pool: Iterable[SimDossier] = self._by_code.values()
        else:
            pool = (self._by_code[code] for code in self._by_status[status])
        return nlargest(limit, pool, key=attrgetter("status_changed_at"))

    # ------------------------------------------------------------------ changes feed

    @property
    def sequence(self) -> int:
        """The number of the latest change (0 before any)."""
        return len(self._log)

    def cursor(self, sequence: int | None = None) -> str:
        """The opaque cursor for "after change `sequence`" (default: the latest)."""
        return f"{self.run_id}-{self.sequence if sequence is None else sequence}"

    def parse_cursor(self, cursor: str) -> int:
        """The change number a cursor stands for.

        A well-formed cursor of another run (the simulator restarted) replays this run's
        changes from the start, so a poller loses nothing.
        """
        run_id, sep, number = cursor.rpartition("-")
        if not sep or not run_id or not number.isdigit() or len(number) > 18:
            raise BadCursor(cursor)
        if run_id != self.run_id:
            return 0
        sequence = int(number)
        if sequence > self.sequence:
            raise BadCursor(cursor)
        return sequence

    def changes_after(self, sequence: int, limit: int) -> SimChangesPage:
        """Dossiers changed after change `sequence`, oldest (latest change) first.

        A dossier changed several times appears once, in its current state, at the place of
        its latest change; the returned cursor stands after the last dossier's latest change.
        """
        latest: dict[str, int] = {}
        for number in range(sequence + 1, len(self._log) + 1):
            code = self._log[number - 1]
            latest.pop(code, None)
            latest[code] = number
        items: list[SimDossier] = []
        last = sequence
        for code, number in latest.items():
            if len(items) == limit:
                break
            items.append(self._by_code[code])
            last = number
        if len(items) < limit:
            last = len(self._log)
        return SimChangesPage(items, self.cursor(last))

    def add_listener(self, listener: ChangeListener) -> None:
        """Call `listener` after every change (used by the pusher)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        """Stop calling `listener`."""
        self._listeners.remove(listener)

    # ------------------------------------------------------------------ changing

    def move(
        self,
        code: str,
        status: Status,
        now: datetime,
        note: str | None = None,
        *,
        due_at: datetime | None = None,
    ) -> SimDossier:
        """Move dossier `code` to `status` at `now`, keeping it coherent, and log the change.

        `due_at` extends the appointment (gia hạn): the first appointment is kept in
        `original_due_at` and the note carries the agency's apology unless `note` is given.
        `status` may equal the current status only together with `due_at`.
        Raises UnknownDossier, InvalidTransition or InvalidRequest.
        """
        dossier = self._require(code)
        now = local_now(now)
        current = dossier.status
        if status is current:
            if due_at is None:
                raise InvalidTransition(f"{code} is already {status.value}")
        elif status not in TRANSITIONS[current]:
            raise InvalidTransition(f"{code}: {current.value} cannot become {status.value}")
        if due_at is not None:
            self._check_extension(dossier, status, due_at)

        if status is not current:
            self._set_status(dossier, status, now)
            dossier.note = note if note is not None else self._default_note(dossier, status)
        elif note is not None:
            dossier.note = note
        if due_at is not None:
            if dossier.original_due_at is None:
                dossier.original_due_at = dossier.due_at
            dossier.due_at = local_now(due_at)
            if note is None and (status is current or dossier.note is None):
                dossier.note = catalog.apology(dossier.agency, dossier.due_at.strftime("%d/%m/%Y"))
        self._changed(dossier)
        return dossier

    def create(
        self,
        now: datetime,
        *,
        procedure: str | None = None,
        agency: str | None = None,
        applicant: str | None = None,
        phone: str | None = None,
        pin: str | None = None,
        delivery: Delivery = "counter",
    ) -> SimDossier:
        """A new dossier received at the counter at `now` (missing details are drawn)."""
        chosen_procedure, chosen_agency = self._pick_procedure_and_agency(procedure, agency)
        people = People(self._rng)
        if phone is not None:
            normalized = normalize_phone(phone)
            if normalized is None:
                raise InvalidRequest("phone is not a Vietnamese phone number")
            phone = normalized
        if pin is not None and not (len(pin) == 6 and pin.isdigit()):
            raise InvalidRequest("pin must be 6 digits")
        local = local_now(now)
        day = local.strftime("%y%m%d")
        key = (chosen_agency.code, day)
        self._sequences[key] = sequence = self._sequences.get(key, 0) + 1
        dossier = SimDossier(
            code=f"{chosen_agency.code}-{day}-{sequence:04d}",
            status=S.RECEIVED,
            status_changed_at=local,
            procedure=chosen_procedure,
            agency=chosen_agency,
            applicant=applicant or people.name(),
            phone=phone or people.phone(),
            pin=pin or people.pin(),
            received_at=local,
            due_at=due_after(local, chosen_procedure.days),
            delivery=delivery,
            fee=self._counter_fee(chosen_procedure),
        )
        self._add(dossier)
        self._changed(dossier)
        return dossier

    # ------------------------------------------------------------------ internals

    def _require(self, code: str) -> SimDossier:
        dossier = self._by_code.get(code)
        if dossier is None:
            raise UnknownDossier(code)
        return dossier

    def _add(self, dossier: SimDossier) -> None:
        if dossier.code in self._by_code:
            raise ValueError(f"duplicate dossier code {dossier.code}")
        self._by_code[dossier.code] = dossier
        self._by_status[dossier.status][dossier.code] = None
        agency_code, day, number = dossier.code.rsplit("-", 2)
        key = (agency_code, day)
        self._sequences[key] = max(self._sequences.get(key, 0), int(number))

    def _changed(self, dossier: SimDossier) -> None:
        self._log.append(dossier.code)
        sequence = len(self._log)
        for listener in list(self._listeners):
            listener(sequence, dossier)

    def _set_status(self, dossier: SimDossier, status: Status, now: datetime) -> None:
        del self._by_status[dossier.status][dossier.code]
        self._by_status[status][dossier.code] = None
        previous = dossier.status
        dossier.status = status
        dossier.status_changed_at = now
        if status is S.RECEIVED:
            if dossier.received_at is None:
                dossier.received_at = now
            dossier.due_at = due_after(now, dossier.procedure.days)
        elif status is S.PROCESSING and previous is S.SUPPLEMENT_REQUIRED:
            # The dossier is complete again: the legal time counts afresh.
            dossier.due_at = due_after(now, dossier.procedure.days)
        elif status is S.NOT_ACCEPTED:
            dossier.fee = None
        elif status is S.PAYMENT_REQUIRED:
            dossier.fee = self._obligation(dossier.procedure)
        elif status is S.READY:
            dossier.pickup = dossier.delivery == "counter"
        elif status is S.RETURNED:
            dossier.returned_at = now
            dossier.pickup = dossier.delivery == "counter"

    def _default_note(self, dossier: SimDossier, status: Status) -> str | None:
        make = _DEFAULT_NOTES.get(status)
        return make(self._rng, dossier) if make is not None else None

    def _check_extension(self, dossier: SimDossier, status: Status, due_at: datetime) -> None:
        if due_at.tzinfo is None:
            raise InvalidRequest("due_at needs a UTC offset")
        if status not in EXTENDABLE:
            raise InvalidRequest(f"a dossier that is {status.value} has no appointment to move")
        if dossier.due_at is not None and due_at <= dossier.due_at:
            raise InvalidRequest("an extension must move the appointment later")

    def _obligation(self, procedure: CatalogProcedure) -> int:
        low, high = procedure.obligation or (500_000, 5_000_000)
        return int(round(self._rng.uniform(low, high), -3))

    def _counter_fee(self, procedure: CatalogProcedure) -> int | None:
        if procedure.fee is None:
            return None
        pages = 1 + min(int(self._rng.expovariate(0.45)), 19) if procedure.fee_per_page else 1
        return procedure.fee * pages

    def _pick_procedure_and_agency(
        self, procedure_code: str | None, agency_code: str | None
    ) -> tuple[CatalogProcedure, CatalogAgency]:
        agency = None
        if agency_code is not None:
            agency = catalog.AGENCIES_BY_CODE.get(agency_code)
            if agency is None:
                raise InvalidRequest(f"unknown agency {agency_code}")
        if procedure_code is not None:
            procedure = catalog.PROCEDURES_BY_CODE.get(procedure_code)
            if procedure is None:
                raise InvalidRequest(f"unknown procedure {procedure_code}")
        else:
            level = agency.level if agency is not None else self._rng.choice(list(Level))
            procedure = self._rng.choice([p for p in catalog.PROCEDURES if p.level is level])
        if agency is None:
            agencies = [a for a in catalog.AGENCIES if a.level is procedure.level]
            agency = self._rng.choice(agencies)
        elif agency.level is not procedure.level:
            raise InvalidRequest(f"{agency.name} does not handle {procedure.code}")
        return procedure, agency
