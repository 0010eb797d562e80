"""Doctors' time off: one-off stretches when they cannot be booked (README: Time off)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from encounter_cli.domain import AppointmentStatus
from encounter_cli.models import AppointmentColumns, DoctorTimeOffColumns, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import Listing, stamp
from encounter_cli.services.doctors import get_doctor


@dataclass(frozen=True)
class TimeOff:
    """A stretch of time off as the schedule, the slot search and import read it."""

    id: int
    start: datetime
    end: datetime
    reason: str | None


@dataclass(frozen=True)
class TimeOffAdded:
    time_off: DoctorTimeOffColumns
    booked: list[AppointmentColumns]  # booked appointments inside it, to be moved


def add_time_off(
    session: Session,
    doctor_id: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    reason: str | None = None,
    now: datetime | None = None,
) -> TimeOffAdded:
    """Record time off [start, end). Bookings inside it stay; the result lists the future ones, to be moved.

    The doctor's row is locked, as a booking locks it, so no booking slips in between.
    """
    if end <= start:
        raise rules.range_reversed(start, end, zone)
    m = models_of(session)
    get_doctor(session, doctor_id, lock=True, field="doctor_id")
    created = stamp(now)
    time_off = m.DoctorTimeOff(
        doctor_id=doctor_id, start_time=start, end_time=end, reason=reason, created_at=created, updated_at=created
    )
    session.add(time_off)
    session.flush()
    audit.added(session, "doctor.time_off.add", "time_off", time_off)
    appointment = m.Appointment
    booked = select(appointment).where(
        appointment.doctor_id == doctor_id,
        appointment.status == AppointmentStatus.booked.value,
        appointment.start_time < end,
        appointment.end_time > start,
        appointment.start_time > created,  # one that has started can no longer be moved
    )
    return TimeOffAdded(time_off, list(session.scalars(booked.order_by(appointment.start_time, appointment.id))))


def list_time_off(
    session: Session,
    doctor_id: int,
    start_from: datetime | None,
    start_before: datetime | None,
    zone: ZoneInfo,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Listing[DoctorTimeOffColumns]:
    """The doctor's time off that reaches into [start_from, start_before), in start order; with neither
    bound, what has not ended yet."""
    rules.ensure_range(start_from, start_before, zone)
    get_doctor(session, doctor_id, field="doctor_id")
    time_off = models_of(session).DoctorTimeOff
    query = select(time_off).where(time_off.doctor_id == doctor_id).order_by(time_off.start_time, time_off.id)
    if start_from is None and start_before is None:
        start_from = stamp(now)
    if start_from is not None:
        query = query.where(time_off.end_time > start_from)
    if start_before is not None:
        query = query.where(time_off.start_time < start_before)
    return Listing(session, query, limit, offset)


def remove_time_off(session: Session, time_off_id: int) -> DoctorTimeOffColumns:
    """Delete one stretch of time off; the doctor is bookable then again. Returns what was removed."""
    time_off_model = models_of(session).DoctorTimeOff
    time_off = session.scalars(select(time_off_model).where(time_off_model.id == time_off_id).with_for_update()).first()
    if time_off is None:
        raise rules.not_found("time off", time_off_id)
    audit.removed(session, "doctor.time_off.remove", "time_off", time_off)
    session.delete(time_off)
    session.flush()
    return time_off


def time_off_between(
    session: Session, doctor_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[TimeOff]]:
    """Each doctor's time off intersecting [start, end), in start order: one query."""
    ids = list(doctor_ids)
    found: dict[int, list[TimeOff]] = {doctor_id: [] for doctor_id in ids}
    if not ids:
        return found
    time_off = models_of(session).DoctorTimeOff
    query = (
        select(time_off.doctor_id, time_off.id, time_off.start_time, time_off.end_time, time_off.reason)
        .where(time_off.doctor_id.in_(ids), time_off.start_time < end, time_off.end_time > start)
        .order_by(time_off.doctor_id, time_off.start_time, time_off.id)
    )
    for doctor_id, time_off_id, off_start, off_end, reason in session.execute(query):
        found[doctor_id].append(TimeOff(time_off_id, off_start, off_end, reason))
    return found
