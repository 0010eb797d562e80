"""Batch import: every row meets the single-record rules, checked a batch at a time.

Per row, the same Pydantic schemas as `add`/`book`. Per batch (set-based,
one query per rule, not one per row): ids and emails already stored,
patients and doctors that exist, and appointment overlaps, checked in memory
on each doctor's sorted booked intervals. Every rejection is the error the
single-record command would raise (`services.rules`), turned into a row of
the report. Good rows are inserted with one bulk INSERT per batch.

Rows are inserted even in all-or-nothing mode while later rows are still
being read: the database then finds conflicts with earlier batches like any
stored row, and the transaction is rolled back at the end if any row failed.
A --dry-run inserts nothing (a rolled-back INSERT still uses up MySQL
AUTO_INCREMENT values). Keys the input has given so far (emails, ids) are
kept with their line numbers in `InputKeys`, so a repeat names its first line
in every mode. With --skip-invalid each batch is its own transaction, so an
interruption leaves whole batches only.

Unlike the single-record services, `run_import` opens its own transactions
(one, or one per batch), because how it commits is part of the import's rules.

Appointments meet `book_appointment`'s rules in its order: doctor and patient
exist, doctor active, inside working hours, not on time off, slot free (5),
patient free (9, unless --allow-patient-overlap). Per batch, a handful of
queries whatever its size: lock the batch's doctors in id order, then its
patients in id order (the order `book` locks them in, so an import and a
booking of one patient queue for each other rather than race); the doctors'
hours (`weeks_of`); their time off over the batch's span (`time_off_between`);
the patients' stored booked appointments over that span; and, from `InputKeys`,
the intervals earlier rows of the input gave them.

Memory stays flat. Each doctor's bookings stay in memory for the whole import
(`Bookings`: a clinic has a few thousand doctors). Patients are too many for
that, so rule 9 holds only the batch's patients, for that batch: their stored
appointments (`Overlapping`, since --allow-patient-overlap may have stored
overlapping ones), and those earlier rows' intervals that overlap one of the
batch's rows: `InputKeys` keeps every accepted row's interval on disk and
joins the batch's rows to them there, so usually none comes back. Earlier rows
are checked before stored appointments, so a clash with one names its line, as
a doctor's slot does, even in all-or-nothing mode, where that row is inserted
already and reads as a stored appointment too. Like the doctors' bookings,
they are forgotten by `reset` (each --skip-invalid batch, a retried batch):
from then on the database holds those rows, named by their appointment id.
"""

from __future__ import annotations

import sqlite3
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property, partial
from itertools import groupby, islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Dialect, event, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from encounter_cli import schemas
from encounter_cli.clinic_time import parse_when
from encounter_cli.domain import MAX_DURATION, AppointmentStatus
from encounter_cli.errors import Conflict, DatabaseBusy, EncounterError, InvalidInput, NotFound, Unavailable
from encounter_cli.models import AppointmentColumns, DoctorColumns, Models, PatientColumns, models_of
from encounter_cli.readers import BadRecord, Record
from encounter_cli.services import audit, rules
from encounter_cli.services.audit import CreatedIds
from encounter_cli.services.common import stamp
from encounter_cli.services.hours import weeks_of
from encounter_cli.services.time_off import time_off_between
from encounter_cli.working_hours import NO_HOURS, WeeklyHours, within_hours

if TYPE_CHECKING:
    from encounter_cli.db import Database

BATCH_ROWS = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
INSERT_ATTEMPTS = 3
EXIT_ORDER = (InvalidInput.kind, NotFound.kind, Conflict.kind)  # the first kind present decides the exit code

ModelT = TypeVar("ModelT", PatientColumns, DoctorColumns, AppointmentColumns)


@dataclass(frozen=True)
class Rejection:
    line: int
    field: str
    type: str
    message: str

    @classmethod
    def from_error(cls, line: int, error: EncounterError) -> Rejection:
        return cls(line, error.field or "record", error.kind, error.message)


@dataclass
class ImportReport:
    read: int = 0
    valid: int = 0  # rows that passed every check
    written: int = 0  # rows committed
    rejected: list[Rejection] = field(default_factory=list)
    committed_through_line: int | None = None  # --skip-invalid: the last line of the last committed batch

    def worst(self) -> str | None:
        """The rejection type that sets the exit code: invalid, else not_found, else conflict."""
        kinds = {rejection.type for rejection in self.rejected}
        return next((kind for kind in EXIT_ORDER if kind in kinds), None)


@dataclass
class Row:
    line: int
    values: dict[str, Any]

    @cached_property
    def span(self) -> tuple[int, int]:
        """An appointment's [start, end) in microseconds since the epoch, worked out once for every check."""
        return _micros(self.values["start_time"]), _micros(self.values["end_time"])


class InputKeys:
    """Keys (emails, ids) that accepted rows of this input have given, each with its line; and for
    appointments, the intervals those rows booked their patients into (rule 9).

    Kept in a private temporary SQLite database (deleted when closed), not in
    memory: an input of millions of rows costs no memory, and a dry run, which
    stores nothing, still finds a repeat in a later batch.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "" is a temporary on-disk database, private to this connection
        self._tables: set[str] = set()

    def first_lines(self, kind: str, keys: Iterable[Any]) -> dict[Any, int]:
        """The line that first gave each of `keys` (of those given before)."""
        wanted = list(keys)
        found: dict[Any, int] = {}
        for start in range(0, len(wanted), BATCH_ROWS):
            chunk = wanted[start : start + BATCH_ROWS]
            query = f"SELECT key, line FROM {self._table(kind)} WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def add(self, kind: str, lines: Iterable[tuple[Any, int]]) -> None:
        self._db.executemany(f"INSERT OR IGNORE INTO {self._table(kind)} VALUES (?, ?)", lines)

    def add_intervals(self, intervals: Iterable[tuple[int, int, int, int]]) -> None:
        """Record (patient_id, start, end, line) of accepted rows: one patient's never overlap (rule 9)."""
        self._db.executemany(f"INSERT INTO {self._intervals} VALUES (?, ?, ?, ?)", intervals)

    def intervals(self, rows: Iterable[tuple[int, int, int]]) -> dict[int, Bookings]:
        """The recorded intervals that overlap one of `rows` (patient_id, start, end) of their patient, each
        patient's in time order: usually none, so the batch's rows are joined to them here, not in Python.

        No appointment is longer than MAX_DURATION, so only those starting after `start - MAX_DURATION`
        can reach into a row: a short range of the (patient, start) key per row.
        """
        self._db.execute(f"DELETE FROM {self._batch}")
        self._db.executemany(f"INSERT INTO {self._batch} VALUES (?, ?, ?)", rows)
        # CROSS JOIN makes SQLite loop over the batch and seek each row's range in the key: left to itself,
        # it may scan every interval of the input so far, once per batch.
        query = (
            f"SELECT DISTINCT i.patient, i.start, i.end, i.line FROM {self._batch} b CROSS JOIN {self._intervals} i"
            " ON i.patient = b.patient AND i.start > b.start - ? AND i.start < b.end AND i.end > b.start"
            " ORDER BY i.patient, i.start"
        )
        found: dict[int, Bookings] = {}
        for patient, begins, ends, line in self._db.execute(query, [MAX_DURATION * 60_000_000]):
            found.setdefault(patient, Bookings()).append(begins, ends, line=line)
        return found

    def forget_intervals(self) -> None:
        if "_intervals" in self.__dict__:
            self._db.execute(f"DELETE FROM {self._intervals}")

    @cached_property
    def _intervals(self) -> str:
        self._db.execute(
            "CREATE TABLE patient_intervals (patient INTEGER, start INTEGER, end INTEGER, line INTEGER,"
            " PRIMARY KEY (patient, start)) WITHOUT ROWID"
        )
        return "patient_intervals"

    @cached_property
    def _batch(self) -> str:
        """The rows of the batch being checked, to join to the intervals."""
        self._db.execute("CREATE TABLE batch_rows (patient INTEGER, start INTEGER, end INTEGER)")
        return "batch_rows"

    def _table(self, kind: str) -> str:
        """One table per kind of key (`id`, `email`: our own names, never input)."""
        table = f"keys_{kind}"
        if table not in self._tables:
            self._db.execute(f"CREATE TABLE {table} (key PRIMARY KEY, line INTEGER) WITHOUT ROWID")
            self._tables.add(table)
        return table

    def close(self) -> None:
        self._db.close()


class RowCheck(Protocol):
    """One rule (or a few) checked for each row of a batch against what the batch's queries found."""

    clean: bool  # the batch's queries found nothing any row could break: no row needs checking

    def problem(self, row: Row) -> EncounterError | None: ...

    def claim(self, row: Row) -> None:
        """Record an accepted row, so later rows are checked against it."""


class UniqueKey:
    """A key (id, email) no two records share: the values stored already, and each one's first line in the input.

    Unless this is a dry run, earlier batches are stored already: then only
    values found stored can be repeats, and only those are looked up in `keys`.
    """

    def __init__(
        self,
        importer: EntityImport[Any],
        session: Session,
        rows: list[Row],
        key: str,
        column: Any,
        taken: Callable[[Any], EncounterError],
    ) -> None:
        self.key, self.taken = key, taken
        given = [row.values[key] for row in rows if row.values.get(key) is not None]
        values = set(given)
        self.stored = set(session.scalars(select(column).where(column.in_(values)))) if values else set()
        self.earlier = importer.keys.first_lines(key, values if importer.dry_run else self.stored)
        self.clean = not self.stored and not self.earlier and len(values) == len(given)

    def problem(self, row: Row) -> EncounterError | None:
        value = row.values.get(self.key)
        if value in self.earlier:
            return rules.repeated_in_input(self.key, value, self.earlier[value])
        if value in self.stored:
            return self.taken(value)
        return None

    def claim(self, row: Row) -> None:
        value = row.values.get(self.key)
        if value is not None:
            self.earlier[value] = row.line


@dataclass(frozen=True)
class Columns:
    """The columns an import of one entity accepts, in the list export's order: those a row must give, those it
    may give, and the output-only ones of the list format, accepted and ignored. `import --help` lists these."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    ignored: tuple[str, ...]

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset((*self.required, *self.optional, *self.ignored))


class EntityImport(Generic[ModelT]):
    """What differs between entities: accepted columns, per-row and per-batch checks."""

    entity: ClassVar[str]
    schema: ClassVar[type[BaseModel]]
    output_only: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")

    def __init__(self, now: datetime, zone: ZoneInfo, *, dry_run: bool = False) -> None:
        self.now, self.zone, self.dry_run = now, zone, dry_run
        self.today = now.astimezone(zone).date()
        self.created = stamp(now)
        self.accepted = self.columns().accepted
        self.ignored = frozenset(self.output_only)

    @classmethod
    def columns(cls) -> Columns:
        """What `check_columns` and `prepare` accept: the schema's fields, then the output-only columns."""
        fields = cls.schema.model_fields
        return Columns(
            required=tuple(name for name, info in fields.items() if info.is_required()),
            optional=tuple(name for name, info in fields.items() if not info.is_required()),
            ignored=cls.output_only,
        )

    @cached_property
    def keys(self) -> InputKeys:
        return InputKeys()  # opened on first use: an import that fails before its first row leaves no file

    @staticmethod
    def model(models: Models) -> type[ModelT]:
        raise NotImplementedError

    def check_columns(self, names: Iterable[str]) -> None:
        """A column the entity does not have is an error for the whole file, not silently dropped."""
        unknown = [name for name in names if name not in self.accepted]
        if unknown:
            raise self.unknown_field("header", unknown[0])

    def unknown_field(self, field: str, name: str | None) -> InvalidInput:
        hint = f"{self.entity} columns: {', '.join(self.schema.model_fields)}"
        return InvalidInput(field, name, f"is not a {self.entity} field", hint=hint)

    def prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate one record with the single-record rules; return the values to insert."""
        if not self.accepted.issuperset(record):  # one set operation per row; names the first unknown below
            raise self.unknown_field(next(name for name in record if name not in self.accepted), None)
        given = {k: v for k, v in record.items() if v is not None and k not in self.ignored}
        return self.schema_values(schemas.parse(self.schema, given, today=self.today))

    def schema_values(self, data: Any) -> dict[str, Any]:
        """Every column, empty ones as None (a bulk INSERT takes its columns from the rows); no id means new."""
        values: dict[str, Any] = dict(data.__dict__)  # the validated fields, as model_dump() gives them, faster
        if values["id"] is None:
            del values["id"]
        return values

    def same_for_every_row(self) -> dict[str, Any]:
        """Values every imported row shares: sent once per INSERT, not converted again for each row."""
        return {"created_at": self.created, "updated_at": self.created}

    def check_batch(self, session: Session, rows: list[Row]) -> dict[int, EncounterError]:
        """Every rule of the single-record command, in its order: index in batch -> the first rule a row breaks.

        A row claims its keys (and, for a booking, its slot) only once it has passed every rule, so a
        rejected row never makes a later one look like a repeat.
        """
        checks = self.checks(session, rows)
        if all(check.clean for check in checks):
            return {}  # the usual batch: nothing stored or given before, no value twice
        errors: dict[int, EncounterError] = {}
        for i, row in enumerate(rows):
            for check in checks:
                error = check.problem(row)
                if error is not None:
                    errors[i] = error
                    break
            else:
                for check in checks:
                    check.claim(row)
        return errors

    def checks(self, session: Session, rows: list[Row]) -> list[RowCheck]:
        """The batch's checks, set-based (one query each), in the order the single-record service applies them."""
        if not any("id" in row.values for row in rows):
            return []  # every row gets a new id
        model = self.model(models_of(session))
        return [UniqueKey(self, session, rows, "id", model.id, partial(rules.id_taken, self.entity))]

    def remember(self, rows: list[Row]) -> None:
        """Keep the keys of rows that were accepted (and, unless a dry run, inserted)."""
        self.keys.add("id", ((row.values["id"], row.line) for row in rows if "id" in row.values))

    def reset(self) -> None:
        """Forget what was learnt from the database: a new transaction may see other writers' rows."""

    def close(self) -> None:
        if "keys" in self.__dict__:  # only if it was opened
            self.keys.close()


class PatientImport(EntityImport[PatientColumns]):
    entity = "patient"
    schema = schemas.PatientCreate

    @staticmethod
    def model(models: Models) -> type[PatientColumns]:
        return models.Patient

    def checks(self, session: Session, rows: list[Row]) -> list[RowCheck]:
        email = models_of(session).Patient.email
        return [UniqueKey(self, session, rows, "email", email, rules.email_taken), *super().checks(session, rows)]

    def remember(self, rows: list[Row]) -> None:
        super().remember(rows)
        self.keys.add("email", ((row.values["email"], row.line) for row in rows))


class DoctorImport(EntityImport[DoctorColumns]):
    entity = "doctor"
    schema = schemas.DoctorCreate

    @staticmethod
    def model(models: Models) -> type[DoctorColumns]:
        return models.Doctor


class Bookings:
    """One doctor's booked intervals, sorted and disjoint, in compact arrays (an import of millions of rows
    keeps them all): times as microseconds since the epoch (`_micros`), and who holds each: a stored
    appointment's id, or the input line that claimed it (0 where the other is meant)."""

    def __init__(self) -> None:
        self.starts = array("q")
        self.ends = array("q")
        self.appointment_ids = array("q")
        self.lines = array("q")

    def clash(self, start: int, end: int) -> int | None:
        """Index of the interval overlapping [start, end), if any: only the one before `end` can."""
        slot = bisect_left(self.starts, end)
        return slot - 1 if slot and self.ends[slot - 1] > start else None

    def add(self, start: int, end: int, *, appointment_id: int = 0, line: int = 0) -> None:
        """Add an interval that clashes with none (the caller checked), at its place in time order."""
        slot = bisect_left(self.starts, end)
        self.starts.insert(slot, start)
        self.ends.insert(slot, end)
        self.appointment_ids.insert(slot, appointment_id)
        self.lines.insert(slot, line)

    def append(self, start: int, end: int, *, appointment_id: int = 0, line: int = 0) -> None:
        """Add an interval that starts after every other one."""
        self.starts.append(start)
        self.ends.append(end)
        self.appointment_ids.append(appointment_id)
        self.lines.append(line)

    def holder(self, index: int) -> dict[str, int | None]:
        """Who holds the interval at `index`, as `rules.slot_taken` names it."""
        line = self.lines[index]  # input lines start at 1
        return {"appointment_id": None, "line": line} if line else {"appointment_id": self.appointment_ids[index]}

    def interval(self, index: int) -> tuple[datetime, datetime]:
        return _moment(self.starts[index]), _moment(self.ends[index])


class Overlapping:
    """Fixed intervals of many owners (doctors' time off, patients' stored bookings) that may overlap one
    another (--allow-patient-overlap may have stored such bookings), each with its record's id: one set of
    arrays for all owners, so a batch costs no object per owner. Each owner's intervals are one run, in start
    order; `reach[i]` is the latest end in the run up to i: it never decreases, so the first interval that
    ends after a moment is found by bisection, as the first one starting before another is.
    """

    def __init__(self, intervals: Iterable[tuple[int, datetime, datetime, int]]) -> None:
        """`intervals`: (owner, start, end, id), in owner then start order."""
        self.starts, self.ends, self.ids, self.reach = array("q"), array("q"), array("q"), array("q")
        self.runs: dict[int, tuple[int, int]] = {}  # owner -> its [first, last) indexes
        first, owner = 0, None
        for index, (next_owner, start, end, record_id) in enumerate(intervals):
            self.starts.append(_micros(start))
            self.ends.append(_micros(end))
            self.ids.append(record_id)
            if next_owner != owner:
                if owner is not None:
                    self.runs[owner] = first, index
                first, owner = index, next_owner
                self.reach.append(self.ends[-1])
            else:
                self.reach.append(max(self.reach[-1], self.ends[-1]))
        if owner is not None:
            self.runs[owner] = first, len(self.starts)

    def clash(self, owner: int, start: int, end: int) -> int | None:
        """Index of the owner's earliest-starting interval that overlaps [start, end) (microseconds), if any."""
        run = self.runs.get(owner)
        if run is None:
            return None
        first = bisect_right(self.reach, start, *run)  # the first interval of the run that ends after `start`
        return first if first < bisect_left(self.starts, end, *run) else None

    def interval(self, index: int) -> tuple[datetime, datetime]:
        return _moment(self.starts[index]), _moment(self.ends[index])


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@dataclass
class BookingCheck:
    """The doctor's rules of `book_appointment`, in its order, on what the batch's queries found."""

    patients: set[int]  # those that exist
    doctors: dict[int, bool]  # those that exist: active?
    weeks: dict[int, WeeklyHours]  # each doctor's hours in effect
    time_off: Overlapping  # the doctors' time off over the batch's span
    booked: dict[int, Bookings]  # each doctor's bookings: stored, and accepted rows of the input
    zone: ZoneInfo
    clean: bool = field(default=False, init=False)  # every booking is checked against the others

    def problem(self, row: Row) -> EncounterError | None:
        doctor_id, patient_id = row.values["doctor_id"], row.values["patient_id"]
        if doctor_id not in self.doctors:
            return rules.not_found("doctor", doctor_id, "doctor_id")
        if patient_id not in self.patients:
            return rules.not_found("patient", patient_id, "patient_id")
        if not self.doctors[doctor_id]:
            return rules.doctor_inactive(doctor_id)
        start, end = row.values["start_time"], row.values["end_time"]
        if not within_hours(self.weeks[doctor_id], start, end, self.zone):
            return rules.outside_hours(doctor_id, start, end, self.zone)
        time_off = self.time_off
        off = time_off.clash(doctor_id, *row.span)
        if off is not None:
            return rules.on_time_off(doctor_id, *time_off.interval(off), self.zone, time_off.ids[off])
        bookings = self.booked[doctor_id]
        taken = bookings.clash(*row.span)
        if taken is None:
            return None
        held_from, held_to = bookings.interval(taken)
        return rules.slot_taken(doctor_id, held_from, held_to, self.zone, **bookings.holder(taken))

    def claim(self, row: Row) -> None:
        self.booked[row.values["doctor_id"]].add(*row.span, line=row.line)


NOTHING_GIVEN = Bookings()  # read only: a patient no earlier row booked


@dataclass
class PatientCheck:
    """Rule 9, for the batch's patients: earlier rows of the input first (so one already inserted is named
    by its line), then stored appointments."""

    given: dict[int, Bookings]  # intervals accepted rows gave each patient that overlap the batch's, disjoint
    stored: Overlapping  # the patients' stored booked appointments over the batch's span
    repeated: set[int]  # patients with more than one row in the batch: only their rows need claiming
    zone: ZoneInfo
    clean: bool = field(default=False, init=False)

    def problem(self, row: Row) -> EncounterError | None:
        patient_id = row.values["patient_id"]
        given = self.given.get(patient_id, NOTHING_GIVEN)
        index = given.clash(*row.span)
        if index is not None:
            held_from, held_to = given.interval(index)
            return rules.patient_busy(patient_id, held_from, held_to, self.zone, **given.holder(index))
        index = self.stored.clash(patient_id, *row.span)
        if index is not None:
            held_from, held_to = self.stored.interval(index)
            return rules.patient_busy(patient_id, held_from, held_to, self.zone, appointment_id=self.stored.ids[index])
        return None

    def claim(self, row: Row) -> None:
        """Later rows of this batch meet this one here (earlier batches' rows, in `InputKeys`)."""
        patient_id = row.values["patient_id"]
        if patient_id not in self.repeated:
            return
        given = self.given.get(patient_id)
        if given is None:
            given = self.given[patient_id] = Bookings()
        given.add(*row.span, line=row.line)


class AppointmentImport(EntityImport[AppointmentColumns]):
    """Imported appointments are new bookings: every booking rule applies."""

    entity = "appointment"
    schema = schemas.AppointmentCreate
    output_only = (
        *("end_time", "status", "cancelled_at", "cancellation_reason", "created_at", "updated_at"),
        *("patient_name", "doctor_name"),  # the names come from the patient and doctor ids, whatever a row says
    )

    def __init__(
        self,
        now: datetime,
        zone: ZoneInfo,
        *,
        dry_run: bool = False,
        default_hours: WeeklyHours = NO_HOURS,
        allow_patient_overlap: bool = False,
    ) -> None:
        super().__init__(now, zone, dry_run=dry_run)
        self.default_hours, self.allow_patient_overlap = default_hours, allow_patient_overlap
        self.booked: dict[int, Bookings] = {}

    @staticmethod
    def model(models: Models) -> type[AppointmentColumns]:
        return models.Appointment

    def prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        if (record.get("status") or AppointmentStatus.booked) != AppointmentStatus.booked:
            raise InvalidInput("status", record["status"], "must be booked: an import makes new bookings")
        for name in ("cancelled_at", "cancellation_reason"):
            if record.get(name) is not None:
                raise InvalidInput(name, record[name], "must be empty: an import makes new bookings")
        start = record.get("start_time")
        if start is not None:  # text only: a JSON number is not taken for a Unix timestamp
            if not isinstance(start, str):
                raise InvalidInput("start_time", start, "must be an ISO 8601 time such as 2026-12-01T09:30")
            record = {**record, "start_time": parse_when(start, self.zone)}
        return super().prepare(record)

    def schema_values(self, data: Any) -> dict[str, Any]:
        rules.ensure_future(data.start_time, self.now, self.zone)
        values = super().schema_values(data)
        return {**values, "end_time": data.start_time + timedelta(minutes=data.duration_minutes)}

    def same_for_every_row(self) -> dict[str, Any]:
        return {**super().same_for_every_row(), "status": AppointmentStatus.booked.value}

    def checks(self, session: Session, rows: list[Row]) -> list[RowCheck]:
        doctors, patients = self._lock(session, rows)
        first = min(row.values["start_time"] for row in rows)  # the batch's span
        last = max(row.values["end_time"] for row in rows)
        self._load_booked(session, [d for d in doctors if d not in self.booked])
        time_off = time_off_between(session, doctors, first, last)
        weeks = weeks_of(session, doctors, self.default_hours)
        time_off_of = Overlapping(
            (doctor, off.start, off.end, off.id) for doctor, offs in time_off.items() for off in offs
        )
        checks: list[RowCheck] = [BookingCheck(patients, doctors, weeks, time_off_of, self.booked, self.zone)]
        if not self.allow_patient_overlap:
            known = [row for row in rows if row.values["patient_id"] in patients]
            given = self.keys.intervals((row.values["patient_id"], *row.span) for row in known)
            stored = self._stored_of_patients(session, patients, first, last)
            times = Counter(row.values["patient_id"] for row in known)
            repeated = {patient_id for patient_id, count in times.items() if count > 1}
            checks.append(PatientCheck(given, stored, repeated, self.zone))
        return [*checks, *super().checks(session, rows)]

    @staticmethod
    def _lock(session: Session, rows: list[Row]) -> tuple[dict[int, bool], set[int]]:
        """Lock the batch's doctors, then its patients, each in id order, as `book` does: a booking of one of
        them (or another import's batch) then waits for this transaction instead of racing it. Returns the
        doctors that exist (id -> active) and the patients that exist."""
        m = models_of(session)
        doctor_ids = sorted({row.values["doctor_id"] for row in rows})
        doctors = select(m.Doctor.id, m.Doctor.is_active).where(m.Doctor.id.in_(doctor_ids)).order_by(m.Doctor.id)
        active = {doctor_id: is_active for doctor_id, is_active in session.execute(doctors.with_for_update())}
        patient_ids = sorted({row.values["patient_id"] for row in rows})
        patients = select(m.Patient.id).where(m.Patient.id.in_(patient_ids)).order_by(m.Patient.id)
        return active, set(session.scalars(patients.with_for_update()))

    def remember(self, rows: list[Row]) -> None:
        super().remember(rows)
        if not self.allow_patient_overlap:
            self.keys.add_intervals((row.values["patient_id"], *row.span, row.line) for row in rows)

    def reset(self) -> None:
        """Earlier rows are read from the database from now on (named by their appointment id), as they are
        for a doctor's slot: --skip-invalid has committed them, a retried batch inserted them."""
        self.booked.clear()
        if "keys" in self.__dict__:
            self.keys.forget_intervals()

    def _load_booked(self, session: Session, doctor_ids: list[int]) -> None:
        appointment = models_of(session).Appointment
        for doctor_id in doctor_ids:
            self.booked[doctor_id] = Bookings()
        if not doctor_ids:
            return
        query = (
            select(appointment.doctor_id, appointment.start_time, appointment.end_time, appointment.id)
            .where(
                appointment.doctor_id.in_(doctor_ids),
                appointment.status == AppointmentStatus.booked.value,
                appointment.end_time > self.now,
            )
            .order_by(appointment.doctor_id, appointment.start_time)
        )
        for doctor_id, start, end, appointment_id in session.execute(query):
            bookings = self.booked[doctor_id]  # in start order: each is appended at the end
            bookings.append(_micros(start), _micros(end), appointment_id=appointment_id)

    @staticmethod
    def _stored_of_patients(session: Session, patient_ids: set[int], first: datetime, last: datetime) -> Overlapping:
        """The patients' booked appointments that overlap [first, last): a short range of the
        (patientId, startTime) index each (`rules.reaching_into`)."""
        appointment = models_of(session).Appointment
        query = (
            select(appointment.patient_id, appointment.start_time, appointment.end_time, appointment.id)
            .where(
                appointment.patient_id.in_(patient_ids),
                *rules.reaching_into(appointment, first, last),
                appointment.status == AppointmentStatus.booked.value,
            )
            .order_by(appointment.patient_id, appointment.start_time)
        )
        return Overlapping(session.execute(query) if patient_ids else ())


IMPORTERS: dict[str, type[EntityImport[Any]]] = {
    "patient": PatientImport,
    "doctor": DoctorImport,
    "appointment": AppointmentImport,
}


def _bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]], shared: dict[str, Any]) -> None:
    """One executemany INSERT, handed to the driver with values already in its form.

    SQLAlchemy's own executemany converts and re-keys every parameter of every
    row in Python, which cost more than validating the row; here only the
    columns whose type needs it are converted, and `shared` values once.
    Rows that name their id go first, so an automatic id (the highest stored
    plus one on SQLite) never takes an id a later row of the batch asks for.
    """
    dialect = session.get_bind().dialect
    mapper = inspect(model)
    named_first = sorted(rows, key=lambda row: "id" not in row)
    # Rows with and without an explicit id need different column lists: one INSERT per group.
    for _, same_columns in groupby(named_first, key=lambda row: "id" in row):
        group = list(same_columns)
        columns = {mapper.columns[name].key: name for name in [*group[0], *shared]}
        compiled = insert(model.__table__).compile(dialect=dialect, column_keys=list(columns))
        constants = _converted_row(shared, _driver_converters(mapper, shared, dialect))
        converters = _driver_converters(mapper, group[0], dialect)
        as_params = _params_maker(compiled, columns)
        params = [as_params(_converted_row(row, converters) | constants) for row in group]
        session.connection().exec_driver_sql(compiled.string, params)


def _params_maker(compiled: Any, columns: dict[str, str]) -> Callable[[dict[str, Any]], Any]:
    """Values by field name -> the statement's parameters: a tuple in placeholder order (SQLite's `?`),
    or a dict by column key (PyMySQL's `%(name)s`). `columns`: column key -> field name."""
    if compiled.positional:
        return itemgetter(*[columns[key] for key in compiled.positiontup])  # several columns: a tuple
    keys, values_of = list(columns), itemgetter(*columns.values())
    return lambda values: dict(zip(keys, values_of(values), strict=True))


def _converted_row(row: dict[str, Any], converters: list[tuple[str, Callable[[Any], Any]]]) -> dict[str, Any]:
    """The row's values in the driver's form (a date as SQLite's text...); most columns need nothing."""
    if converters:
        row = dict(row)
        for name, convert in converters:
            if row[name] is not None:
                row[name] = convert(row[name])
    return row


def _driver_converters(mapper: Any, names: Iterable[str], dialect: Dialect) -> list[tuple[str, Callable[[Any], Any]]]:
    """The fields among `names` whose column type converts values for the driver, with that conversion."""
    converters = [(name, mapper.columns[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    return [(name, convert) for name, convert in converters if convert is not None]


@dataclass
class BatchResult:
    read: int = 0
    accepted: list[Row] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    last_line: int = 0


def import_batch(
    session: Session,
    importer: EntityImport[Any],
    records: list[tuple[int, Record]],
    write: bool = True,
    created: CreatedIds | None = None,
) -> BatchResult:
    """Validate one batch of records and insert the good ones (the caller commits or rolls back).

    With `write` false (a dry run) nothing is inserted. `created` collects the inserted ids for the audit
    trail's entry.
    """
    result = BatchResult(read=len(records), last_line=records[-1][0])
    rows = []
    for line, record in records:
        if isinstance(record, BadRecord):
            result.rejected.append(Rejection(line, "record", "invalid", f"record {record.message}"))
            continue
        try:
            rows.append(Row(line, importer.prepare(record)))
        except InvalidInput as error:  # the only thing a row's own values can break
            result.rejected.append(Rejection.from_error(line, error))
    errors, result.accepted = _check_and_insert(session, importer, rows, write, created or CreatedIds())
    result.rejected += (Rejection.from_error(rows[i].line, error) for i, error in errors.items())
    result.rejected.sort(key=lambda rejection: rejection.line)
    return result


def _check_and_insert(
    session: Session, importer: EntityImport[Any], rows: list[Row], write: bool, created: CreatedIds
) -> tuple[dict[int, EncounterError], list[Row]]:
    """Set-based checks, then one bulk INSERT in a savepoint.

    Between check and insert a concurrent writer (MySQL) may store one of the
    batch's emails or ids; the UNIQUE index then refuses the INSERT, and the
    batch is simply checked again, now seeing that row.
    """
    model = importer.model(models_of(session))
    for _ in range(INSERT_ATTEMPTS):
        errors = importer.check_batch(session, rows) if rows else {}
        good = [row for i, row in enumerate(rows) if i not in errors]
        if not good or not write:
            return errors, good
        try:
            with session.begin_nested():
                created.before_insert(session, model)
                _bulk_insert(session, model, [row.values for row in good], importer.same_for_every_row())
            created.after_insert(session, model, importer.created, [row.values for row in good])
            return errors, good
        except IntegrityError:
            importer.reset()
    raise DatabaseBusy("other writers kept storing this batch's emails or ids first", hint="retry the command")


def run_import(
    database: Database,
    importer: EntityImport[Any],
    records: Iterator[tuple[int, Record]],
    report: ImportReport,
    *,
    skip_invalid: bool = False,
    progress: Callable[[ImportReport], None] = lambda report: None,
) -> ImportReport:
    """Import everything `records` yields into `report`, which stays current if this is interrupted.

    A dry run (`importer.dry_run`) checks every row in one transaction and rolls it back.
    """
    batches = iter(lambda: list(islice(records, BATCH_ROWS)), [])
    try:
        if skip_invalid and not importer.dry_run:
            _import_batch_by_batch(database, importer, batches, report, progress)
        else:
            _import_all_or_nothing(database, importer, batches, report, progress)
    except sqlite3.Error as error:  # the temporary file of the input's keys (a full /tmp, say)
        raise Unavailable(f"cannot keep this import's keys in a temporary file: {error}") from None
    finally:
        importer.close()
    return report


def _import_batch_by_batch(
    database: Database,
    importer: EntityImport[Any],
    batches: Iterator[list[tuple[int, Record]]],
    report: ImportReport,
    progress: Callable[[ImportReport], None],
) -> None:
    """--skip-invalid: each batch is its own transaction; a retry after a deadlock starts from a clean slate."""

    def fresh_batch(session: Session, batch: list[tuple[int, Record]]) -> None:
        importer.reset()
        created = CreatedIds()
        result = import_batch(session, importer, batch, created=created)
        audit.record_import(session, importer.entity, created)
        # Counted as part of the commit (Ctrl-C waits for both), so the report never misses a stored batch.
        event.listen(session, "after_commit", lambda _: _count_committed(report, importer, result))

    for batch in batches:
        database.run(partial(fresh_batch, batch=batch))
        progress(report)


def _import_all_or_nothing(
    database: Database,
    importer: EntityImport[Any],
    batches: Iterator[list[tuple[int, Record]]],
    report: ImportReport,
    progress: Callable[[ImportReport], None],
) -> None:
    """One transaction for the whole input, rolled back for a dry run or if any row was rejected."""
    with database.session(write=True) as session:
        created = CreatedIds()
        for batch in batches:
            result = import_batch(session, importer, batch, write=not importer.dry_run, created=created)
            _merge(report, importer, result, committed=False)
            progress(report)
        if importer.dry_run or report.rejected:
            session.rollback()
        else:  # counted as part of the commit (Ctrl-C waits for both); a failed commit has written nothing
            audit.record_import(session, importer.entity, created)
            event.listen(session, "after_commit", lambda _: setattr(report, "written", report.valid))


def _count_committed(report: ImportReport, importer: EntityImport[Any], result: BatchResult) -> None:
    _merge(report, importer, result, committed=True)
    report.committed_through_line = result.last_line


def _merge(report: ImportReport, importer: EntityImport[Any], result: BatchResult, committed: bool) -> None:
    """Count a finished batch, and remember its keys for the batches after it."""
    importer.remember(result.accepted)
    report.read += result.read
    report.valid += len(result.accepted)
    report.rejected += result.rejected
    if committed:
        report.written += len(result.accepted)
