"""ORM models: snake_case attributes mapped explicitly onto the legacy camelCase columns.

The column definitions live in the `*Columns` mixins. Table names depend on
the configured `table_prefix`, so `models_for(prefix)` builds (once per
prefix) a declarative base with the mapped classes. Services find the
set in use through `models_of(session)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, MetaData, String, Time, inspect
from sqlalchemy.orm import (
    ColumnProperty,
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    query_expression,
)

from encounter_cli.db_types import ExactString, LongText, UTCDateTime
from encounter_cli.domain import AppointmentStatus

MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


class TimestampColumns:
    if TYPE_CHECKING:  # the mapped subclasses built by `models_for` get SQLAlchemy's keyword constructor

        def __init__(self, **values: Any) -> None: ...

    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column("updatedAt", UTCDateTime())


class PatientColumns(TimestampColumns):
    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    first_name: Mapped[str] = mapped_column("firstName", String(100))
    last_name: Mapped[str] = mapped_column("lastName", String(100))
    email: Mapped[str] = mapped_column("email", ExactString(254))  # stored lower-cased
    phone: Mapped[str | None] = mapped_column("phone", String(20))
    date_of_birth: Mapped[date | None] = mapped_column("dateOfBirth", Date)


class DoctorColumns(TimestampColumns):
    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    full_name: Mapped[str] = mapped_column("fullName", String(100))
    specialization: Mapped[str] = mapped_column("specialization", String(100))
    is_active: Mapped[bool] = mapped_column("isActive", Boolean, default=True)


class AppointmentColumns(TimestampColumns):
    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    start_time: Mapped[datetime] = mapped_column("startTime", UTCDateTime())
    end_time: Mapped[datetime] = mapped_column("endTime", UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column("durationMinutes", Integer)
    # Plain text, compared with AppointmentStatus values: a status another application stored in the shared
    # database still lists (an Enum column would fail to read the whole list).
    status: Mapped[str] = mapped_column("status", String(20), default=AppointmentStatus.booked.value)
    reason: Mapped[str | None] = mapped_column("reason", String(500))
    cancelled_at: Mapped[datetime | None] = mapped_column("cancelledAt", UTCDateTime())
    cancellation_reason: Mapped[str | None] = mapped_column("cancellationReason", String(500))

    table_prefix: ClassVar[str] = ""

    # Foreign keys name the prefixed tables, so they are declared per model set.
    @declared_attr
    def patient_id(cls) -> Mapped[int]:
        target = table_name(cls.table_prefix, "Patients")
        return mapped_column("patientId", ForeignKey(f"{target}.id", ondelete="RESTRICT"))

    @declared_attr
    def doctor_id(cls) -> Mapped[int]:
        target = table_name(cls.table_prefix, "Doctors")
        return mapped_column("doctorId", ForeignKey(f"{target}.id", ondelete="RESTRICT"))

    # Output-only fields, stored nowhere: the query that loads an appointment computes them by a join
    # (`services.appointments.appointment_names`). None on an object loaded without them.
    @declared_attr
    def patient_name(cls) -> Mapped[str | None]:
        return query_expression()

    @declared_attr
    def doctor_name(cls) -> Mapped[str | None]:
        return query_expression()


class DoctorForeignKey:
    """Tables that belong to a doctor: the foreign key names the prefixed doctors table, so it is declared
    per model set."""

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    table_prefix: ClassVar[str] = ""

    @declared_attr
    def doctor_id(cls) -> Mapped[int]:
        target = table_name(cls.table_prefix, "Doctors")
        return mapped_column("doctorId", ForeignKey(f"{target}.id", ondelete="RESTRICT"))


class DoctorHoursColumns(DoctorForeignKey):
    """One working interval of a doctor's week, in clinic-local wall time (README: Working hours)."""

    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    weekday: Mapped[int] = mapped_column("weekday", Integer)  # ISO: 1 is Monday, 7 Sunday
    starts_at: Mapped[time] = mapped_column("startsAt", Time)
    ends_at: Mapped[time] = mapped_column("endsAt", Time)


class DoctorTimeOffColumns(DoctorForeignKey, TimestampColumns):
    """A one-off stretch when a doctor cannot be booked: [start_time, end_time), UTC."""

    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    start_time: Mapped[datetime] = mapped_column("startTime", UTCDateTime())
    end_time: Mapped[datetime] = mapped_column("endTime", UTCDateTime())
    reason: Mapped[str | None] = mapped_column("reason", String(500))


class ApiTokenColumns:
    """An HTTP API client's bearer token: only its SHA-256 is stored; the token itself is shown once."""

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column("name", ExactString(100))  # the audit actor of the client's requests
    token_hash: Mapped[str] = mapped_column("tokenHash", ExactString(64))  # hex SHA-256
    created_at: Mapped[datetime] = mapped_column("createdAt", UTCDateTime())


class AuditEntryColumns:
    """One recorded change (README: Audit trail): who, from where, what, to which record, and the values.

    Written in the same transaction as the change; nothing edits or deletes an entry.
    """

    if TYPE_CHECKING:

        def __init__(self, **values: Any) -> None: ...

    id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column("occurredAt", UTCDateTime())
    actor: Mapped[str] = mapped_column("actor", ExactString(100))  # filtered exactly, as on SQLite
    source: Mapped[str] = mapped_column("source", String(10))  # cli, api or import
    action: Mapped[str] = mapped_column("action", String(40))  # patient.add, appointment.cancel ...
    entity: Mapped[str] = mapped_column("entity", String(20))  # patient, doctor, appointment, time_off, api_token
    entity_id: Mapped[int | None] = mapped_column("entityId", Integer)  # None for an import batch
    changes: Mapped[str] = mapped_column("changes", LongText())  # JSON: {"field": [old, new]}


def table_name(prefix: str, kind: str) -> str:
    """`clinic` + `ApiTokens` → `clinicApiTokens`; no prefix → `apiTokens`."""
    return f"{prefix}{kind}" if prefix else kind[:1].lower() + kind[1:]


@dataclass(frozen=True)
class Models:
    prefix: str
    metadata: MetaData
    Patient: type[PatientColumns]
    Doctor: type[DoctorColumns]
    Appointment: type[AppointmentColumns]
    ApiToken: type[ApiTokenColumns]
    DoctorHours: type[DoctorHoursColumns]
    DoctorTimeOff: type[DoctorTimeOffColumns]
    AuditEntry: type[AuditEntryColumns]


@cache
def models_for(prefix: str = "", dialect: str = "sqlite") -> Models:
    """Build the mapped classes for one table prefix (cached: mapping is costly).

    MySQL table options are added only for MySQL: naming them loads that
    dialect, which would cost every SQLite command ~20 ms of start-up.
    """
    options = MYSQL_TABLE_OPTIONS if dialect in ("mysql", "mariadb") else {}

    class Base(DeclarativeBase):
        pass

    kinds = ("Patients", "Doctors", "Appointments", "ApiTokens", "DoctorHours", "DoctorTimeOff", "AuditLog")
    patients, doctors, appointments, api_tokens, hours, time_off, audit_log = (table_name(prefix, k) for k in kinds)

    class Patient(PatientColumns, Base):
        __tablename__ = patients
        __table_args__ = (Index(f"ux_{patients}_email", "email", unique=True), options)

    class Doctor(DoctorColumns, Base):
        __tablename__ = doctors
        __table_args__ = (options,)

    class Appointment(AppointmentColumns, Base):
        __tablename__ = appointments
        table_prefix = prefix
        __table_args__ = (
            # A doctor's and a patient's bookings in time order, and a day's schedule, read from an index.
            Index(f"ix_{appointments}_doctor_start", "doctorId", "startTime"),
            Index(f"ix_{appointments}_patient_start", "patientId", "startTime"),
            Index(f"ix_{appointments}_start", "startTime"),
            options,
        )

    class ApiToken(ApiTokenColumns, Base):
        __tablename__ = api_tokens
        __table_args__ = (Index(f"ux_{api_tokens}_name", "name", unique=True), options)

    class DoctorHours(DoctorHoursColumns, Base):
        __tablename__ = hours
        table_prefix = prefix
        __table_args__ = (Index(f"ix_{hours}_doctor", "doctorId", "weekday"), options)

    class DoctorTimeOff(DoctorTimeOffColumns, Base):
        __tablename__ = time_off
        table_prefix = prefix
        __table_args__ = (Index(f"ix_{time_off}_doctor_start", "doctorId", "startTime"), options)

    class AuditEntry(AuditEntryColumns, Base):
        __tablename__ = audit_log
        __table_args__ = (
            # One record's history, and a period's entries, read from an index.
            Index(f"ix_{audit_log}_entity", "entity", "entityId"),
            Index(f"ix_{audit_log}_occurred", "occurredAt"),
            options,
        )

    return Models(prefix, Base.metadata, Patient, Doctor, Appointment, ApiToken, DoctorHours, DoctorTimeOff, AuditEntry)


def models_of(session: Session) -> Models:
    """The model set bound to this session by `encounter_cli.db.Database`."""
    return session.info["models"]


@cache
def fields_of(model: type) -> tuple[str, ...]:
    """A mapped class's fields, as machine output lists them: the stored ones, then the output-only ones."""
    return stored_fields_of(model) + output_fields_of(model)


@cache
def stored_fields_of(model: type) -> tuple[str, ...]:
    """The fields that are columns of the model's table: the primary key, foreign keys, then the rest."""

    def rank(attribute) -> int:
        column = attribute.columns[0]
        return 0 if column.primary_key else 1 if column.foreign_keys else 2

    stored = [attribute for attribute in _column_attributes(model) if _is_stored(attribute)]
    return tuple(attribute.key for attribute in sorted(stored, key=rank))


@cache
def output_fields_of(model: type) -> tuple[str, ...]:
    """Output-only fields (`query_expression()`), in declaration order: computed by the loading query, never
    stored, and ignored by imports."""
    return tuple(attribute.key for attribute in _column_attributes(model) if not _is_stored(attribute))


def _column_attributes(model: type) -> list[ColumnProperty[Any]]:
    return list(inspect(model).column_attrs)


def _is_stored(attribute: ColumnProperty[Any]) -> bool:
    return isinstance(attribute.columns[0], Column)
