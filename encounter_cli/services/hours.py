"""Doctors' working hours: read (theirs, else the clinic's default) and set (README: Working hours)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from encounter_cli.domain import AppointmentStatus
from encounter_cli.models import DoctorColumns, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import stamp
from encounter_cli.services.doctors import get_doctor
from encounter_cli.working_hours import MIDNIGHT, NO_HOURS, WeeklyHours, format_hours, hours_facts, within_hours


@dataclass(frozen=True)
class HoursReport:
    """A doctor's hours in effect, and where they come from: "doctor", "clinic" (the default) or "none"."""

    doctor: DoctorColumns
    week: WeeklyHours
    source: str
    outside: int | None = None  # after a change: future booked appointments now outside the hours

    def facts(self) -> dict[str, object]:
        """As `doctor hours -o json` and the API show it."""
        values = {"doctor_id": self.doctor.id, **hours_facts(self.week, self.source)}
        return values if self.outside is None else {**values, "outside_hours": self.outside}


def weeks_of(session: Session, doctor_ids: Iterable[int], default: WeeklyHours) -> dict[int, WeeklyHours]:
    """Each doctor's hours in effect, in one query: their own, else `default` (the clinic's)."""
    ids = list(doctor_ids)
    own = _own_weeks(session, ids)
    return {doctor_id: own.get(doctor_id, default) for doctor_id in ids}


def _own_weeks(session: Session, doctor_ids: list[int]) -> dict[int, WeeklyHours]:
    hours = models_of(session).DoctorHours
    if not doctor_ids:
        return {}
    query = (
        select(hours.doctor_id, hours.weekday, hours.starts_at, hours.ends_at)
        .where(hours.doctor_id.in_(doctor_ids))
        .order_by(hours.doctor_id, hours.weekday, hours.starts_at)
    )
    days: dict[int, list[list[tuple[int, int]]]] = {}
    for doctor_id, weekday, starts_at, ends_at in session.execute(query):
        week = days.setdefault(doctor_id, [[] for _ in range(7)])
        week[weekday - 1].append((_minutes(starts_at), _minutes(ends_at) or MIDNIGHT))  # an end of 00:00 is 24:00
    return {doctor_id: tuple(map(tuple, week)) for doctor_id, week in days.items()}


def get_hours(session: Session, doctor_id: int, default: WeeklyHours) -> HoursReport:
    doctor = get_doctor(session, doctor_id)
    own = _own_weeks(session, [doctor_id]).get(doctor_id)
    return _report(doctor, own, default)


def set_hours(
    session: Session,
    doctor_id: int,
    week: WeeklyHours | None,
    default: WeeklyHours,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> HoursReport:
    """Replace the doctor's own hours (None: clear them, so the clinic's default applies).

    Existing bookings are kept; the report counts the future ones that now fall outside the hours.
    The doctor's row is locked, as a booking locks it, so no booking slips in between.
    """
    if week == NO_HOURS:  # an empty --set (an unset shell variable) must not wipe the hours unasked
        raise rules.no_hours_given()
    m = models_of(session)
    doctor = get_doctor(session, doctor_id, lock=True)
    old = _own_weeks(session, [doctor_id]).get(doctor_id)
    session.execute(delete(m.DoctorHours).where(m.DoctorHours.doctor_id == doctor_id))
    for weekday, intervals in enumerate(week or ()):
        for start, end in intervals:
            row = m.DoctorHours(doctor_id=doctor_id, weekday=weekday + 1, starts_at=_time(start), ends_at=_time(end))
            session.add(row)
    session.flush()
    # The doctor's own hours as `--set` lines; null: none of their own (the clinic's default applies).
    if _lines(old) != _lines(week):
        audit.record(session, "doctor.hours", "doctor", doctor_id, {"hours": [_lines(old), _lines(week)]})
    report = _report(doctor, week, default)
    return replace(report, outside=_outside(session, doctor_id, report.week, zone, now))


def _report(doctor: DoctorColumns, own: WeeklyHours | None, default: WeeklyHours) -> HoursReport:
    if own is not None:
        return HoursReport(doctor, own, "doctor")
    return HoursReport(doctor, default, "clinic" if default != NO_HOURS else "none")


def _outside(session: Session, doctor_id: int, week: WeeklyHours, zone: ZoneInfo, now: datetime | None) -> int:
    """How many of the doctor's future booked appointments lie outside `week`."""
    appointment = models_of(session).Appointment
    query = select(appointment.start_time, appointment.end_time).where(
        appointment.doctor_id == doctor_id,
        appointment.status == AppointmentStatus.booked.value,
        appointment.start_time > stamp(now),
    )
    return sum(not within_hours(week, start, end, zone) for start, end in session.execute(query))


def _lines(week: WeeklyHours | None) -> list[str] | None:
    return None if week is None else format_hours(week)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _time(minutes: int) -> time:
    """24:00, an interval's end, is stored as 00:00 (a TIME column stops at 23:59): an end is after its start."""
    return time(minutes // 60 % 24, minutes % 60)
