"""Doctor services: add, show, list, activate and deactivate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from encounter_cli.domain import AppointmentStatus
from encounter_cli.models import DoctorColumns, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import Listing, conflict_guard, contains_ignoring_case, every_word_in, stamp

if TYPE_CHECKING:  # schemas build Pydantic models: import them only where input is parsed
    from encounter_cli.schemas import DoctorCreate


@dataclass(frozen=True)
class ActivationResult:
    doctor: DoctorColumns
    booked_remaining: int  # future booked appointments, kept when deactivating


def add_doctor(session: Session, data: DoctorCreate, now: datetime | None = None) -> DoctorColumns:
    m = models_of(session)
    rules.ensure_id_free(session, m.Doctor, "doctor", data.id)
    created = stamp(now)
    doctor = m.Doctor(**data.model_dump(), created_at=created, updated_at=created)
    with conflict_guard(session, lambda: rules.id_taken("doctor", data.id)):
        session.add(doctor)
    audit.added(session, "doctor.add", "doctor", doctor)
    return doctor


def get_doctor(session: Session, doctor_id: int, *, lock: bool = False, field: str = "id") -> DoctorColumns:
    """Load a doctor; `lock` holds the row (SELECT ... FOR UPDATE) until commit."""
    doctor_model = models_of(session).Doctor
    query = select(doctor_model).where(doctor_model.id == doctor_id)
    doctor = session.scalars(query.with_for_update() if lock else query).first()
    if doctor is None:
        raise rules.not_found("doctor", doctor_id, field)
    return doctor


def list_doctors(
    session: Session,
    active: bool | None = None,
    specialization: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    search: str | None = None,
) -> Listing[DoctorColumns]:
    """Doctors by id; `specialization` matches part of it, case-insensitively; each word of `search` is
    part of the full name, in any order ("house gregory")."""
    doctor = models_of(session).Doctor
    query = select(doctor).order_by(doctor.id)
    if active is not None:
        query = query.where(doctor.is_active == active)
    if specialization:
        query = query.where(contains_ignoring_case(session, specialization, [doctor.specialization]))
    if search and not search.isspace():  # spaces alone: no search, as an empty one
        query = query.where(every_word_in(session, search, [doctor.full_name]))
    return Listing(session, query, limit, offset)


def set_doctor_active(session: Session, doctor_id: int, active: bool, now: datetime | None = None) -> ActivationResult:
    """(De)activate; existing appointments stay, and the result says how many are still booked."""
    doctor = get_doctor(session, doctor_id, lock=True)  # serialises with bookings for this doctor
    if doctor.is_active != active:  # a no-op changes nothing, and is not recorded
        audit.record(
            session,
            "doctor.activate" if active else "doctor.deactivate",
            "doctor",
            doctor.id,
            {"is_active": [doctor.is_active, active]},
        )
        doctor.is_active = active
        doctor.updated_at = stamp(now)
    return ActivationResult(doctor, _future_booked(session, doctor_id, stamp(now)))


def _future_booked(session: Session, doctor_id: int, now: datetime) -> int:
    appointment = models_of(session).Appointment
    query = select(func.count()).where(
        appointment.doctor_id == doctor_id,
        appointment.status == AppointmentStatus.booked.value,
        appointment.start_time > now,
    )
    return session.scalar(query) or 0
