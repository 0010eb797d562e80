"""Appointment services: book, show, list, cancel. The rules themselves are in `rules`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import day_bounds, day_start, now_utc
from encounter_cli.domain import AppointmentStatus
from encounter_cli.errors import DatabaseBusy
from encounter_cli.models import AppointmentColumns, DoctorColumns, Models, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import Listing, OutputFields, conflict_guard, stamp
from encounter_cli.services.hours import weeks_of
from encounter_cli.services.time_off import time_off_between
from encounter_cli.working_hours import NO_HOURS, WeeklyHours

if TYPE_CHECKING:  # schemas build Pydantic models: import them only where input is parsed
    from encounter_cli.schemas import AppointmentCreate, Reschedule

UTC_ZONE = ZoneInfo("UTC")
OUTCOME_ACTIONS = {
    AppointmentStatus.completed: "appointment.complete",
    AppointmentStatus.no_show: "appointment.no_show",
}
MOVED = ("doctor_id", "start_time", "end_time", "duration_minutes")  # what a reschedule may change


@dataclass(frozen=True)
class AppointmentFilter:
    """All given conditions must hold; times are a UTC half-open [start_from, start_before)."""

    start_from: datetime | None = None
    start_before: datetime | None = None
    doctor_id: int | None = None
    patient_id: int | None = None
    status: AppointmentStatus | None = None


def appointment_filter(
    zone: ZoneInfo,
    *,
    day: date | None = None,
    start_from: datetime | None = None,
    start_before: datetime | None = None,
    doctor_id: int | None = None,
    patient_id: int | None = None,
    status: AppointmentStatus | None = None,
    now: datetime | None = None,
) -> AppointmentFilter:
    """What a list request means, for every front end (README: `appointment list`).

    `day` (a clinic calendar day) narrows the [start_from, start_before)
    range to that day. Without any condition at all: booked appointments
    from the start of today, clinic time.
    """
    rules.ensure_range(start_from, start_before, zone)
    if day is not None:
        first, after = day_bounds(day, zone)
        start_from, start_before = max(first, start_from or first), min(after, start_before or after)
    where = AppointmentFilter(start_from, start_before, doctor_id, patient_id, status)
    if where != AppointmentFilter():
        return where
    today = (now or now_utc()).astimezone(zone).date()
    return AppointmentFilter(start_from=day_start(today, zone), status=AppointmentStatus.booked)


def book_appointment(
    session: Session,
    data: AppointmentCreate,
    now: datetime | None = None,
    zone: ZoneInfo = UTC_ZONE,
    *,
    default_hours: WeeklyHours = NO_HOURS,
    allow_patient_overlap: bool = False,
) -> AppointmentColumns:
    """Book a slot. The doctor's row is locked first, then the patient's, so concurrent bookings queue
    per doctor and per patient (rule 9 holds under concurrency as rule 5 does).

    `zone` is the clinic's, for working hours and the times in messages; `default_hours` the clinic's
    hours for doctors without their own.
    """
    m = models_of(session)
    now = now or stamp()
    rules.ensure_future(data.start_time, now, zone)
    doctor = lock_doctors(session, [data.doctor_id])[data.doctor_id]
    lock_patient(session, data.patient_id)
    end_time = data.start_time + timedelta(minutes=data.duration_minutes)
    slot = Slot(doctor, data.start_time, end_time)
    ensure_bookable(session, slot, data.patient_id, zone, default_hours, allow_patient_overlap)
    rules.ensure_id_free(session, m.Appointment, "appointment", data.id)
    created = stamp(now)
    appointment = m.Appointment(
        **data.model_dump(),
        end_time=end_time,
        status=AppointmentStatus.booked.value,
        created_at=created,
        updated_at=created,
    )
    with conflict_guard(session, lambda: rules.id_taken("appointment", data.id)):
        session.add(appointment)
    audit.added(session, "appointment.book", "appointment", appointment)
    return get_appointment(session, appointment.id)


def appointment_names(m: Models) -> OutputFields:
    """The output-only `patient_name` ("First Last") and `doctor_name`, by joins in the loading query.

    Outer joins: an appointment whose patient or doctor row is missing (a legacy database without the
    foreign keys) still lists, with a null name. String `+` is `||` on SQLite and concat() on MySQL.
    """
    patient, doctor, appointment = m.Patient, m.Doctor, m.Appointment

    def join(query: Select[Any]) -> Select[Any]:
        return query.outerjoin(patient, patient.id == appointment.patient_id).outerjoin(
            doctor, doctor.id == appointment.doctor_id
        )

    names = {"patient_name": patient.first_name + " " + patient.last_name, "doctor_name": doctor.full_name}
    return OutputFields(join, names)


@dataclass(frozen=True)
class Slot:
    """Where a booking would go: a locked doctor's [start, end)."""

    doctor: DoctorColumns
    start: datetime
    end: datetime


def ensure_bookable(
    session: Session,
    slot: Slot,
    patient_id: int,
    zone: ZoneInfo,
    default_hours: WeeklyHours,
    allow_patient_overlap: bool,
    moving: int | None = None,
) -> None:
    """Every rule a booking meets once its doctor and patient are locked, in this order: the doctor is
    active (2), working (hours) and not off (time off), the slot is free (5), the patient too (9).
    `moving`: the appointment being rescheduled, which clashes with nobody."""
    doctor_id = slot.doctor.id
    rules.ensure_active(slot.doctor)
    week = weeks_of(session, [doctor_id], default_hours)[doctor_id]
    rules.ensure_within_hours(week, doctor_id, slot.start, slot.end, zone)
    rules.ensure_not_off(doctor_id, time_off_between(session, [doctor_id], slot.start, slot.end)[doctor_id], zone)
    rules.ensure_slot_free(session, doctor_id, slot.start, slot.end, zone, except_id=moving)
    if not allow_patient_overlap:
        rules.ensure_patient_free(session, patient_id, slot.start, slot.end, zone, except_id=moving)


def lock_doctors(session: Session, doctor_ids: list[int]) -> dict[int, DoctorColumns]:
    """Lock doctor rows in id order (so lockers never deadlock each other); a missing one is not found."""
    doctor = models_of(session).Doctor
    wanted = sorted(set(doctor_ids))
    query = select(doctor).where(doctor.id.in_(wanted)).order_by(doctor.id).with_for_update()
    found = {row.id: row for row in session.scalars(query)}
    for doctor_id in doctor_ids:
        if doctor_id not in found:
            raise rules.not_found("doctor", doctor_id, "doctor_id")
    return found


def lock_patient(session: Session, patient_id: int) -> None:
    """Lock the patient's row, after the doctors': bookings of one patient with several doctors queue here."""
    patient = models_of(session).Patient
    query = select(patient.id).where(patient.id == patient_id).with_for_update()
    if session.scalar(query) is None:
        raise rules.not_found("patient", patient_id, "patient_id")


def reschedule_appointment(
    session: Session,
    appointment_id: int,
    change: Reschedule,
    now: datetime | None = None,
    zone: ZoneInfo = UTC_ZONE,
    *,
    default_hours: WeeklyHours = NO_HOURS,
    allow_patient_overlap: bool = False,
) -> AppointmentColumns:
    """Move a future booked appointment to a new start (and duration, and doctor), keeping its id.

    Every booking rule is checked again, in `book_appointment`'s order, the appointment itself excepted
    from the overlap checks. Locks: the old and new doctors in id order, the patient, then the
    appointment, re-read under its lock; if a concurrent change gave it another doctor meanwhile, the
    locks taken were the wrong ones, and the transaction is retried (DatabaseBusy).
    """
    now = now or stamp()
    rules.ensure_future(change.start_time, now, zone)
    seen = get_appointment(session, appointment_id)
    old_doctor_id, patient_id = seen.doctor_id, seen.patient_id  # values: the object is refreshed below
    doctor_id = change.doctor_id or old_doctor_id
    doctors = lock_doctors(session, [old_doctor_id, doctor_id])
    lock_patient(session, patient_id)
    appointment = get_appointment(session, appointment_id, lock=True)
    if appointment.doctor_id != old_doctor_id:
        raise DatabaseBusy("the appointment was changed meanwhile; nothing was written", hint="retry the command")
    rules.ensure_changeable(appointment, now, "rescheduled")
    duration = change.duration_minutes or appointment.duration_minutes
    end_time = change.start_time + timedelta(minutes=duration)
    slot = Slot(doctors[doctor_id], change.start_time, end_time)
    ensure_bookable(session, slot, appointment.patient_id, zone, default_hours, allow_patient_overlap, appointment.id)
    before = audit.snapshot(appointment, MOVED)
    appointment.doctor_id, appointment.start_time, appointment.end_time = doctor_id, change.start_time, end_time
    appointment.duration_minutes = duration
    appointment.updated_at = stamp(now)
    session.flush()
    audit.changed(session, "appointment.reschedule", "appointment", appointment, before)
    return get_appointment(session, appointment.id)


def record_outcome(
    session: Session, appointment_id: int, outcome: AppointmentStatus, now: datetime | None = None
) -> AppointmentColumns:
    """Mark a booked appointment whose start has passed as `completed` or `no_show`."""
    if outcome not in (AppointmentStatus.completed, AppointmentStatus.no_show):
        raise ValueError(f"{outcome} is not an outcome")
    appointment = get_appointment(session, appointment_id, lock=True)
    now = now or stamp()
    rules.ensure_outcome_known(appointment, now, outcome)
    before = audit.snapshot(appointment, ("status",))
    appointment.status = outcome.value
    appointment.updated_at = stamp(now)
    session.flush()
    audit.changed(session, OUTCOME_ACTIONS[outcome], "appointment", appointment, before)
    return get_appointment(session, appointment.id)


def get_appointment(session: Session, appointment_id: int, *, lock: bool = False) -> AppointmentColumns:
    """One appointment, with its patient's and doctor's names, in one query.

    With `lock`, its row is locked FOR UPDATE and the names are not loaded (a join would lock the patient's
    and doctor's rows too). A service that changes an appointment locks it this way, and ends with
    `return get_appointment(session, appointment.id)`: the changed record with its names.
    """
    m = models_of(session)
    query = select(m.Appointment).where(m.Appointment.id == appointment_id)
    # Under a lock the row is read again: values loaded earlier in this transaction may be stale by now.
    locked = query.with_for_update().execution_options(populate_existing=True)
    loaded = locked if lock else appointment_names(m).loaded(query)
    appointment: AppointmentColumns | None = session.scalars(loaded).first()
    if appointment is None:
        raise rules.not_found("appointment", appointment_id)
    return appointment


def list_appointments(
    session: Session, where: AppointmentFilter, limit: int | None = None, offset: int = 0
) -> Listing[AppointmentColumns]:
    """Appointments in start order (then id, so pages are stable). A filter by an unknown doctor or patient is 404."""
    m = models_of(session)
    if where.doctor_id is not None:
        rules.ensure_exists(session, m.Doctor, "doctor", where.doctor_id, "doctor_id")
    if where.patient_id is not None:
        rules.ensure_exists(session, m.Patient, "patient", where.patient_id, "patient_id")
    appointment = m.Appointment
    query = select(appointment).order_by(appointment.start_time, appointment.id)
    if where.start_from is not None:
        query = query.where(appointment.start_time >= where.start_from)
    if where.start_before is not None:
        query = query.where(appointment.start_time < where.start_before)
    if where.doctor_id is not None:
        query = query.where(appointment.doctor_id == where.doctor_id)
    if where.patient_id is not None:
        query = query.where(appointment.patient_id == where.patient_id)
    if where.status is not None:
        query = query.where(appointment.status == AppointmentStatus(where.status).value)
    return Listing(session, query, limit, offset, appointment_names(m))


def cancel_appointment(
    session: Session, appointment_id: int, reason: str | None = None, now: datetime | None = None
) -> AppointmentColumns:
    """Cancel a future booked appointment, which frees its slot."""
    appointment = get_appointment(session, appointment_id, lock=True)
    now = now or stamp()
    rules.ensure_changeable(appointment, now, "cancelled")
    before = audit.snapshot(appointment, ("status", "cancelled_at", "cancellation_reason"))
    appointment.status = AppointmentStatus.cancelled.value
    appointment.cancelled_at = stamp(now)
    appointment.cancellation_reason = reason
    appointment.updated_at = stamp(now)
    session.flush()
    audit.changed(session, "appointment.cancel", "appointment", appointment, before)
    return get_appointment(session, appointment_id)
