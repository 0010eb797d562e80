"""Appointment services: book, show, list, cancel; every scheduling rule lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import UTC, show
from encounter_cli.errors import Conflict, EncounterError, InvalidInput, NotFound
from encounter_cli.models import AppointmentColumns, models_of
from encounter_cli.services.common import Listing, conflict_guard, stamp
from encounter_cli.services.doctors import get_doctor

if TYPE_CHECKING:  # schemas build Pydantic models: import them only where input is parsed
    from encounter_cli.schemas import AppointmentCreate


@dataclass(frozen=True)
class AppointmentFilter:
    """All given conditions must hold; times are a UTC half-open [start_from, start_before)."""

    start_from: datetime | None = None
    start_before: datetime | None = None
    doctor_id: int | None = None
    patient_id: int | None = None
    status: str | None = None

    def or_upcoming(self, today_start: datetime) -> AppointmentFilter:
        """Without any condition, `list` means booked appointments from the start of today (SPEC §5)."""
        if self != AppointmentFilter():
            return self
        return AppointmentFilter(start_from=today_start, status="booked")


def book_appointment(
    session: Session, data: AppointmentCreate, now: datetime | None = None, zone: tzinfo = UTC
) -> AppointmentColumns:
    """Book a slot. The doctor's row is locked first, so concurrent bookings queue per doctor.

    `zone` is the clinic's, for the times in messages.
    """
    m = models_of(session)
    now = now or stamp()
    ensure_future(data.start_time, now, zone)
    doctor = get_doctor(session, data.doctor_id, lock=True, field="doctor_id")
    if session.get(m.Patient, data.patient_id) is None:
        raise NotFound("patient", data.patient_id, field="patient_id")
    if not doctor.is_active:
        raise Conflict(f"doctor {doctor.id} is inactive and cannot be booked", field="doctor_id", doctor_id=doctor.id)
    end_time = data.start_time + timedelta(minutes=data.duration_minutes)
    _ensure_slot_free(session, data.doctor_id, data.start_time, end_time, zone)
    if data.id is not None and session.get(m.Appointment, data.id) is not None:
        raise _id_taken(data.id)
    created = stamp(now)
    appointment = m.Appointment(
        **data.model_dump(), end_time=end_time, status="booked", created_at=created, updated_at=created
    )
    with conflict_guard(session, lambda: _id_taken(data.id)):
        session.add(appointment)
    return appointment


def get_appointment(session: Session, appointment_id: int, *, lock: bool = False) -> AppointmentColumns:
    appointment_model = models_of(session).Appointment
    query = select(appointment_model).where(appointment_model.id == appointment_id)
    appointment = session.scalars(query.with_for_update() if lock else query).first()
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


def list_appointments(
    session: Session, where: AppointmentFilter, limit: int | None = None, offset: int = 0
) -> Listing[AppointmentColumns]:
    """Appointments in start order (then id, so pages are stable)."""
    appointment = models_of(session).Appointment
    query = select(appointment).order_by(appointment.start_time, appointment.id)
    if where.start_from is not None:
        query = query.where(appointment.start_time >= where.start_from)
    if where.start_before is not None:
        query = query.where(appointment.start_time < where.start_before)
    equal = {"doctor_id": where.doctor_id, "patient_id": where.patient_id, "status": where.status}
    return Listing(session, query.filter_by(**{k: v for k, v in equal.items() if v is not None}), limit, offset)


def cancel_appointment(
    session: Session, appointment_id: int, reason: str | None = None, now: datetime | None = None
) -> AppointmentColumns:
    """Cancel a future booked appointment, which frees its slot."""
    appointment = get_appointment(session, appointment_id, lock=True)
    now = now or stamp()
    if appointment.status != "booked":
        raise Conflict(
            f"appointment {appointment_id} is {appointment.status}; only booked appointments can be cancelled",
            field="status",
            status=appointment.status,
        )
    if appointment.start_time <= now:
        raise Conflict(
            f"appointment {appointment_id} has already started; past appointments cannot be cancelled",
            field="start_time",
        )
    appointment.status = "cancelled"
    appointment.cancelled_at = stamp(now)
    appointment.cancellation_reason = reason
    appointment.updated_at = stamp(now)
    session.flush()
    return appointment


def ensure_future(start: datetime, now: datetime, zone: tzinfo) -> None:
    """Rule 3: strictly after now."""
    if start <= now:
        raise InvalidInput("start_time", show(start, zone), "must be in the future")


def already_booked(doctor_id: int, start: datetime, end: datetime, zone: tzinfo) -> str:
    """Rule 5's message, with the taken slot in clinic time."""
    return f"doctor {doctor_id} is already booked from {show(start, zone)} to {show(end, zone)}"


def _ensure_slot_free(session: Session, doctor_id: int, start: datetime, end: datetime, zone: tzinfo) -> None:
    """Half-open intervals: [9:00, 9:30) and [9:30, 10:00) do not overlap."""
    appointment = models_of(session).Appointment
    clash = session.scalars(
        select(appointment)
        .where(
            appointment.doctor_id == doctor_id,
            appointment.status == "booked",
            appointment.start_time < end,
            appointment.end_time > start,
        )
        .limit(1)
    ).first()
    if clash is not None:
        message = already_booked(doctor_id, clash.start_time, clash.end_time, zone)
        raise Conflict(f"{message} (appointment {clash.id})", field="start_time", appointment_id=clash.id)


def _id_taken(appointment_id: int | None) -> EncounterError:
    return Conflict(f"appointment id {appointment_id} is already taken", field="id", id=appointment_id)
