"""Batch import: every row meets the single-record rules, checked a batch at a time.

Per row, the same Pydantic schemas as `add`/`book`. Per batch (set-based,
one query per rule, not one per row): ids and emails already stored,
patients and doctors that exist, and appointment overlaps, checked in memory
on each doctor's sorted booked intervals. Good rows are inserted with one
bulk INSERT per batch.

Rows are inserted even in all-or-nothing mode while later rows are still
being read: the database then finds duplicates of earlier batches like any
stored row, and the transaction is simply rolled back at the end if any row
failed. A --dry-run inserts nothing (a rolled-back INSERT still uses up MySQL
AUTO_INCREMENT values); the importer remembers accepted keys instead. With
--skip-invalid each batch is its own transaction, so an interruption leaves
whole batches only.

Unlike the single-record services, `run_import` opens its own transactions
(one, or one per batch), because how it commits is part of the import's rules.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby, islice
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, inspect, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine, UserDefinedType

from encounter_cli.clinic_time import parse_when
from encounter_cli.errors import DatabaseBusy, EncounterError, InvalidInput
from encounter_cli.models import models_of
from encounter_cli.readers import BadRecord, Record
from encounter_cli.services.appointments import already_booked, ensure_future
from encounter_cli.services.common import stamp

if TYPE_CHECKING:
    from encounter_cli.db import Database

BATCH_ROWS = 5000
INSERT_ATTEMPTS = 3
EXIT_ORDER = ("invalid", "not_found", "conflict")  # the first kind present decides the exit code


@dataclass(frozen=True)
class Rejection:
    line: int
    field: str
    type: str
    message: str


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


class EntityImport:
    """What differs between entities: accepted columns, per-row and per-batch checks."""

    entity = ""  # also names the model (capitalised) and the input schema (+ "Create")
    output_only: frozenset[str] = frozenset({"created_at", "updated_at"})

    def __init__(self, now: datetime, zone: ZoneInfo) -> None:
        from encounter_cli import schemas

        self.now, self.zone = now, zone
        today = now.astimezone(zone).date()
        self.created = stamp(now)
        self.schema = getattr(schemas, f"{self.entity.capitalize()}Create")
        self.parse = lambda given: schemas.parse(self.schema, given, today=today)
        self.accepted = frozenset(self.schema.model_fields) | self.output_only
        self.earlier_ids: set[int] = set()  # filled by `remember` on a dry run only

    def check_columns(self, names: Iterable[str]) -> None:
        """A column the entity does not have is an error for the whole file, not silently dropped."""
        unknown = [name for name in names if name not in self.accepted]
        if unknown:
            raise InvalidInput("header", unknown[0], f"is not a {self.entity} field", hint=self.columns_hint())

    def columns_hint(self) -> str:
        return f"{self.entity} columns: {', '.join(self.schema.model_fields)}"

    def prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate one record with the single-record rules; return the values to insert."""
        for name in record:
            if name not in self.accepted:
                raise InvalidInput(name, None, f"is not a {self.entity} field")
        given = {k: v for k, v in record.items() if v is not None and k not in self.output_only}
        return self.schema_values(self.parse(given))

    def schema_values(self, data) -> dict[str, Any]:
        """Every column, empty ones as None (a bulk INSERT takes its columns from the rows); no id means new."""
        values = data.model_dump()
        if values["id"] is None:
            del values["id"]
        return values

    def same_for_every_row(self) -> dict[str, Any]:
        """Values every imported row shares: sent once per INSERT, not converted again for each row."""
        return {"created_at": self.created, "updated_at": self.created}

    def check_batch(self, session: Session, rows: list[Row]) -> dict[int, Rejection]:
        """Set-based checks against stored rows and the rest of the batch: index in batch -> rejection."""
        return _taken_ids(session, self, rows)

    def model(self, session: Session) -> type:
        return getattr(models_of(session), self.entity.capitalize())

    def reset(self) -> None:
        """Forget what was learnt from the database: a new transaction may see other writers' rows."""

    def remember(self, rows: list[Row]) -> None:
        """A dry run inserts nothing, so keys of accepted rows are kept here for the batches after."""
        self.earlier_ids.update(row.values["id"] for row in rows if "id" in row.values)


class PatientImport(EntityImport):
    entity = "patient"
    stored_before: int | None = None  # highest patient id before this import wrote anything

    def __init__(self, now: datetime, zone: ZoneInfo) -> None:
        super().__init__(now, zone)
        self.earlier_emails: set[int] = set()  # dry run: hashes, so a million emails cost little memory

    def remember(self, rows: list[Row]) -> None:
        super().remember(rows)
        self.earlier_emails.update(hash(row.values["email"]) for row in rows)

    def _mine(self, patient_id: int, created: datetime) -> bool:
        """Was this stored row written by an earlier batch of this import? (New ids, this run's timestamp.)"""
        return patient_id > self.stored_before and created == self.created

    def check_batch(self, session: Session, rows: list[Row]) -> dict[int, Rejection]:
        rejected = super().check_batch(session, rows)
        patient = self.model(session)
        emails = {row.values["email"] for i, row in enumerate(rows) if i not in rejected}
        if self.stored_before is None:
            self.stored_before = session.scalar(select(func.max(patient.id))) or 0
        query = select(patient.email, patient.id, patient.created_at).where(patient.email.in_(emails))
        stored = {email: self._mine(patient_id, created) for email, patient_id, created in session.execute(query)}
        first_line: dict[str, int] = {}
        for i, row in enumerate(rows):
            email = row.values["email"]
            if i in rejected:
                continue
            if email in stored:
                owner = "an earlier row of this input" if stored[email] else "another patient"
                message = f'email: "{email}" is already used by {owner}'
                rejected[i] = Rejection(row.line, "email", "conflict", message)
            elif hash(email) in self.earlier_emails:
                message = f'email: "{email}" appears earlier in the input'
                rejected[i] = Rejection(row.line, "email", "conflict", message)
            elif email in first_line:
                message = f'email: "{email}" appears twice in the input (first at line {first_line[email]})'
                rejected[i] = Rejection(row.line, "email", "conflict", message)
            else:
                first_line[email] = row.line
        return rejected


class DoctorImport(EntityImport):
    entity = "doctor"


class AppointmentImport(EntityImport):
    """Imported appointments are new bookings: every booking rule applies."""

    entity = "appointment"
    output_only = frozenset({"created_at", "updated_at", "end_time", "status", "cancelled_at", "cancellation_reason"})

    def __init__(self, now: datetime, zone: ZoneInfo) -> None:
        super().__init__(now, zone)
        self.booked: dict[int, tuple[list[datetime], list[datetime]]] = {}  # doctor -> sorted starts, ends

    def prepare(self, record: dict[str, Any]) -> dict[str, Any]:
        if (record.get("status") or "booked") != "booked":
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

    def schema_values(self, data) -> dict[str, Any]:
        ensure_future(data.start_time, self.now, self.zone)
        values = super().schema_values(data)
        end = data.start_time + timedelta(minutes=data.duration_minutes)
        return {**values, "end_time": end}

    def same_for_every_row(self) -> dict[str, Any]:
        return {**super().same_for_every_row(), "status": "booked"}

    def check_batch(self, session: Session, rows: list[Row]) -> dict[int, Rejection]:
        m = models_of(session)
        patient_ids = {row.values["patient_id"] for row in rows}
        doctor_ids = sorted({row.values["doctor_id"] for row in rows})
        known_patients = set(session.scalars(select(m.Patient.id).where(m.Patient.id.in_(patient_ids))))
        # Locking the batch's doctors (in id order, so importers cannot deadlock each other)
        # queues concurrent bookings for them until this transaction ends.
        locked = (
            select(m.Doctor.id, m.Doctor.is_active).where(m.Doctor.id.in_(doctor_ids)).order_by(m.Doctor.id)
        ).with_for_update()
        doctors = {doctor_id: active for doctor_id, active in session.execute(locked)}
        self._load_booked(session, [d for d in doctors if d not in self.booked])
        rejected = super().check_batch(session, rows)
        for i, row in enumerate(rows):
            if i not in rejected:
                problem = self._booking_problem(row, known_patients, doctors)
                if problem:
                    rejected[i] = problem
        return rejected

    def reset(self) -> None:
        self.booked.clear()

    def _booking_problem(self, row: Row, patients: set[int], doctors: dict[int, bool]) -> Rejection | None:
        values, line = row.values, row.line
        if values["patient_id"] not in patients:
            return Rejection(line, "patient_id", "not_found", f"patient {values['patient_id']} does not exist")
        doctor_id = values["doctor_id"]
        if doctor_id not in doctors:
            return Rejection(line, "doctor_id", "not_found", f"doctor {doctor_id} does not exist")
        if not doctors[doctor_id]:
            return Rejection(line, "doctor_id", "conflict", f"doctor {doctor_id} is inactive and cannot be booked")
        starts, ends = self.booked[doctor_id]
        start, end = values["start_time"], values["end_time"]
        slot = bisect_left(starts, end)  # intervals are disjoint and sorted: only the one before can overlap
        if slot and ends[slot - 1] > start:
            message = already_booked(doctor_id, starts[slot - 1], ends[slot - 1], self.zone)
            return Rejection(line, "start_time", "conflict", message)
        starts.insert(slot, start)
        ends.insert(slot, end)
        return None

    def _load_booked(self, session: Session, doctor_ids: list[int]) -> None:
        appointment = models_of(session).Appointment
        for doctor_id in doctor_ids:
            self.booked[doctor_id] = ([], [])
        if not doctor_ids:
            return
        query = (
            select(appointment.doctor_id, appointment.start_time, appointment.end_time)
            .where(
                appointment.doctor_id.in_(doctor_ids), appointment.status == "booked", appointment.end_time > self.now
            )
            .order_by(appointment.doctor_id, appointment.start_time)
        )
        for doctor_id, start, end in session.execute(query):
            self.booked[doctor_id][0].append(start)
            self.booked[doctor_id][1].append(end)


IMPORTERS: dict[str, type[EntityImport]] = {
    "patient": PatientImport,
    "doctor": DoctorImport,
    "appointment": AppointmentImport,
}


def _taken_ids(session: Session, importer: EntityImport, rows: list[Row]) -> dict[int, Rejection]:
    """Rows whose given id is stored already, or given earlier in the input."""
    model = importer.model(session)
    wanted = {row.values["id"] for row in rows if "id" in row.values}
    stored = set(session.scalars(select(model.id).where(model.id.in_(wanted)))) if wanted else set()
    seen: set[int] = set()
    rejected = {}
    for i, row in enumerate(rows):
        wanted_id = row.values.get("id")
        if wanted_id is None:
            continue
        if wanted_id in stored or wanted_id in seen or wanted_id in importer.earlier_ids:
            message = f"{importer.entity} id {wanted_id} is already taken"
            rejected[i] = Rejection(row.line, "id", "conflict", message)
        seen.add(wanted_id)
    return rejected


def _bulk_insert(session: Session, model: type, rows: list[dict[str, Any]], shared: dict[str, Any]) -> None:
    """One Core executemany INSERT: much cheaper per row than ORM objects.

    `shared` values are converted to the database's form once, not once per
    row (a timestamp's conversion is a large part of a row's cost on SQLite).
    """
    dialect = session.get_bind().dialect
    columns = {attribute.key: attribute.columns[0] for attribute in inspect(model).column_attrs}
    constants = {columns[name].key: _converted(columns[name].type, value, dialect) for name, value in shared.items()}
    statement = insert(model.__table__).values(constants)
    # Rows with and without an explicit id need different column lists: one INSERT per run of each.
    for _, run in groupby(rows, key=lambda row: "id" in row):
        session.execute(statement, [{columns[name].key: value for name, value in row.items()} for row in run])


def _converted(type_: TypeEngine, value: Any, dialect) -> Any:
    """`value` as the driver receives it, in a bind parameter that converts nothing more."""
    process = type_._cached_bind_processor(dialect)
    return literal(process(value) if process else value, _AsConverted())


class _AsConverted(UserDefinedType):
    """A bind type without conversion (a NullType bind would take the column's type, and its converter)."""

    cache_ok = True


@dataclass
class BatchResult:
    read: int = 0
    valid: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    last_line: int = 0


def import_batch(
    session: Session, importer: EntityImport, records: list[tuple[int, Record]], write: bool = True
) -> BatchResult:
    """Validate one batch of records and insert the good ones (the caller commits or rolls back).

    With `write` false (a dry run) nothing is inserted: the importer remembers the batch's keys instead.
    """
    result = BatchResult(read=len(records), last_line=records[-1][0])
    rows = []
    for line, record in records:
        if isinstance(record, BadRecord):
            result.rejected.append(Rejection(line, "record", "invalid", f"record {record.message}"))
            continue
        try:
            rows.append(Row(line, importer.prepare(record)))
        except EncounterError as error:
            result.rejected.append(Rejection(line, getattr(error, "field", "record"), error.kind, error.message))
    rejected, good = _check_and_insert(session, importer, rows, write)
    result.valid = len(good)
    result.rejected += rejected.values()
    result.rejected.sort(key=lambda rejection: rejection.line)
    return result


def _check_and_insert(
    session: Session, importer: EntityImport, rows: list[Row], write: bool
) -> tuple[dict[int, Rejection], list[Row]]:
    """Set-based checks, then one bulk INSERT in a savepoint.

    Between check and insert a concurrent writer (MySQL) may store one of the
    batch's emails or ids; the UNIQUE index then refuses the INSERT, and the
    batch is simply checked again, now seeing that row.
    """
    for _ in range(INSERT_ATTEMPTS):
        rejected = importer.check_batch(session, rows) if rows else {}
        good = [row for i, row in enumerate(rows) if i not in rejected]
        if not good:
            return rejected, good
        if not write:
            importer.remember(good)
            return rejected, good
        try:
            with session.begin_nested():
                _bulk_insert(
                    session, importer.model(session), [row.values for row in good], importer.same_for_every_row()
                )
            return rejected, good
        except IntegrityError:
            importer.reset()
    raise DatabaseBusy("other writers kept storing this batch's emails or ids first", hint="retry the command")


def run_import(
    database: Database,
    importer: EntityImport,
    records: Iterator[tuple[int, Record]],
    report: ImportReport,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[ImportReport], None] = lambda report: None,
) -> ImportReport:
    """Import everything `records` yields into `report`, which stays current if this is interrupted."""
    batches = iter(lambda: list(islice(records, BATCH_ROWS)), [])
    if skip_invalid and not dry_run:
        for batch in batches:
            result = database.run(lambda session, batch=batch: _fresh_batch(session, importer, batch))
            _merge(report, result, committed=True)
            report.committed_through_line = result.last_line
            progress(report)
        return report
    try:
        with database.session(write=True) as session:
            for batch in batches:
                _merge(report, import_batch(session, importer, batch, write=not dry_run), committed=False)
                progress(report)
            if dry_run or report.rejected:
                raise _Discard
            report.written = report.valid
    except _Discard:
        pass
    return report


def _fresh_batch(session: Session, importer: EntityImport, batch: list[tuple[int, Record]]) -> BatchResult:
    """One --skip-invalid batch in its own transaction; a retry after a deadlock starts from a clean slate."""
    importer.reset()
    return import_batch(session, importer, batch)


class _Discard(Exception):
    """Roll the import transaction back: a dry run, or all-or-nothing with a rejected row."""


def _merge(report: ImportReport, result: BatchResult, committed: bool) -> None:
    report.read += result.read
    report.valid += result.valid
    report.rejected += result.rejected
    if committed:
        report.written += result.valid
