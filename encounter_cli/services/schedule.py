"""Free slots and the day schedule (README: Day schedule and free slots).

Both read a fixed handful of queries whatever the range or the number of doctors: the doctors, their
hours (`weeks_of`), their time off and their appointments, each once for the whole request. Slots are
then made in Python from those rows, never with a query per candidate.

Hours are clinic wall time (`working_hours.day_intervals`); slot steps are real minutes counted from
each working interval's start, so on a daylight-saving day a 09:00 start is still 09:00.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import day_bounds, day_start, show
from encounter_cli.domain import MAX_DURATION, MIN_DURATION, AppointmentStatus
from encounter_cli.models import models_of
from encounter_cli.services import rules
from encounter_cli.services.appointments import appointment_names
from encounter_cli.services.common import contains_ignoring_case
from encounter_cli.services.hours import weeks_of
from encounter_cli.services.time_off import TimeOff, time_off_between
from encounter_cli.working_hours import NO_HOURS, WeeklyHours, day_intervals, days_between

Span = tuple[datetime, datetime]  # UTC [start, end)

MIN_STEP, MAX_STEP, DEFAULT_STEP = 5, 180, 15  # minutes
DEFAULT_DAYS = 7  # a search without a range: today and the six clinic days after it
MAX_RANGE_DAYS = 31
JUST_AFTER = timedelta(microseconds=1)
CANCELLED = AppointmentStatus.cancelled.value


# --- free slots -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeSlot:
    doctor_id: int
    doctor_name: str
    start: datetime
    end: datetime

    def record(self) -> dict[str, Any]:
        """The slot as machine output names its fields."""
        return {"doctor_id": self.doctor_id, "doctor_name": self.doctor_name, "start_time": self.start,
                "end_time": self.end}  # fmt: skip


SLOT_FIELDS = ("doctor_id", "doctor_name", "start_time", "end_time")


def slot_range(
    zone: ZoneInfo,
    *,
    now: datetime,
    day: date | None = None,
    start_from: datetime | None = None,
    start_before: datetime | None = None,
) -> Span:
    """What a slot search's range means, for every front end: one clinic `day`, or [start_from,
    start_before); from now when no start is given, and to the end of the seventh clinic day (the start's
    day counted) when no end is."""
    if day is not None:
        return day_bounds(day, zone)
    start = start_from or now
    end = start_before or day_start(start.astimezone(zone).date() + timedelta(days=DEFAULT_DAYS), zone)
    rules.ensure_range(start, end, zone)
    return start, end


def free_slots(
    session: Session,
    *,
    doctor_id: int | None = None,
    specialization: str | None = None,
    duration: int,
    start: datetime,
    end: datetime,
    step: int = DEFAULT_STEP,
    limit: int | None = None,
    now: datetime,
    zone: ZoneInfo,
    default_hours: WeeklyHours,
) -> list[FreeSlot]:
    """Free slots of one doctor or of the active doctors of a specialization, in (start, doctor) order.

    A slot [s, s + duration) lies inside one working interval and inside [start, end); `s` is on a grid of
    `step` minutes from the interval's start and strictly after `now`; no time off and no booked
    appointment overlaps it. Four queries: doctors, hours, time off, appointments.
    """
    _check_search(doctor_id, specialization, duration, step, start, end, zone)
    doctors = _searched_doctors(session, doctor_id, specialization)
    weeks = weeks_of(session, doctors, default_hours)
    offering = {doctor: weeks[doctor] for doctor in doctors if weeks[doctor] != NO_HOURS}
    if not offering:  # a doctor without hours is bookable any time: that is no list of slots
        raise rules.no_hours(doctor_id) if doctor_id is not None else rules.no_hours_among(specialization or "")
    time_off = time_off_between(session, offering, start, end)
    booked = _booked_between(session, list(offering), start, end)
    days = days_between(start.astimezone(zone).date(), (end - JUST_AFTER).astimezone(zone).date())
    grid = _Grid(timedelta(minutes=duration), timedelta(minutes=step), max(start, now + JUST_AFTER), end)
    starts = []
    for doctor, week in offering.items():
        working = [interval for day in days for interval in day_intervals(week, day, zone)]
        busy = _merged([(off.start, off.end) for off in time_off[doctor]] + booked.get(doctor, []))
        starts.append(_doctor_starts(doctor, working, busy, grid))
    merged: Iterator[tuple[datetime, int]] = heapq.merge(*starts)
    return [FreeSlot(doctor, doctors[doctor], slot, slot + grid.length) for slot, doctor in islice(merged, limit)]


def _check_search(
    doctor_id: int | None,
    specialization: str | None,
    duration: int,
    step: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> None:
    if (doctor_id is None) == (not specialization):
        raise rules.one_of("doctor_id", "specialization")
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise rules.out_of_range("duration", duration, MIN_DURATION, MAX_DURATION)
    if not MIN_STEP <= step <= MAX_STEP:
        raise rules.out_of_range("step", step, MIN_STEP, MAX_STEP)
    rules.ensure_range(start, end, zone)
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise rules.range_too_long(start, end, zone, MAX_RANGE_DAYS)


def _searched_doctors(session: Session, doctor_id: int | None, specialization: str | None) -> dict[int, str]:
    """id -> name, in id order: the one doctor (404 unknown, 409 inactive), or the specialization's active ones."""
    doctor = models_of(session).Doctor
    query = select(doctor.id, doctor.full_name, doctor.is_active).order_by(doctor.id)
    if doctor_id is not None:
        row = session.execute(query.where(doctor.id == doctor_id)).first()
        if row is None:
            raise rules.not_found("doctor", doctor_id, "doctor_id")
        if not row.is_active:
            raise rules.doctor_inactive(doctor_id)
        return {row.id: row.full_name}
    assert specialization is not None
    matching = query.where(
        doctor.is_active.is_(True), contains_ignoring_case(session, specialization, [doctor.specialization])
    )
    found = {row.id: row.full_name for row in session.execute(matching)}
    if not found:
        raise rules.no_active_doctor(specialization)
    return found


def _booked_between(
    session: Session, doctor_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Span]]:
    """The doctors' booked appointments reaching into [start, end), in start order: one range query."""
    appointment = models_of(session).Appointment
    query = (
        select(appointment.doctor_id, appointment.start_time, appointment.end_time)
        .where(
            appointment.doctor_id.in_(doctor_ids),
            *rules.reaching_into(appointment, start, end),
            appointment.status == AppointmentStatus.booked.value,
        )
        .order_by(appointment.doctor_id, appointment.start_time)
    )
    found: dict[int, list[Span]] = {}
    for doctor_id, booked_start, booked_end in session.execute(query):
        found.setdefault(doctor_id, []).append((booked_start, booked_end))
    return found


def _merged(spans: Iterable[Span]) -> list[Span]:
    """Spans sorted, those that overlap or touch joined: each end is then later than the one before."""
    joined: list[Span] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


@dataclass(frozen=True)
class _Grid:
    """Where slot starts may fall: `length` long, `step` apart, from `earliest`, ending by `end`."""

    length: timedelta
    step: timedelta
    earliest: datetime
    end: datetime


def _doctor_starts(
    doctor_id: int, working: list[Span], busy: list[Span], grid: _Grid
) -> Iterator[tuple[datetime, int]]:
    """One doctor's free slot starts in time order, lazily: a search with a limit stops early.

    `working` intervals and `busy` spans (merged) are in time order, so one pass over both does.
    """
    next_busy = 0
    for first, last in working:
        slot = _on_grid(first, grid.step, grid.earliest)
        while slot + grid.length <= min(last, grid.end):
            while next_busy < len(busy) and busy[next_busy][1] <= slot:
                next_busy += 1
            if next_busy < len(busy) and busy[next_busy][0] < slot + grid.length:
                slot = _on_grid(first, grid.step, busy[next_busy][1])  # the first grid start after the busy span
                continue
            yield slot, doctor_id
            slot += grid.step


def _on_grid(origin: datetime, step: timedelta, bound: datetime) -> datetime:
    """The first of origin, origin + step, ... that is not before `bound`."""
    if bound <= origin:
        return origin
    return origin + step * -((origin - bound) // step)  # ceiling division of timedeltas


# --- the day schedule -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """An appointment of the day that is not cancelled, with its patient's name."""

    id: int
    patient_id: int
    patient_name: str
    start: datetime
    end: datetime
    status: str


@dataclass(frozen=True)
class DoctorDay:
    id: int
    full_name: str
    specialization: str
    is_active: bool
    hours: list[Span]  # the day's working intervals
    time_off: list[TimeOff]  # intersecting the day
    visits: list[Visit]  # intersecting the day, in start order
    free: list[Span]  # working time with no visit and no time off


@dataclass(frozen=True)
class DaySchedule:
    day: date
    zone: ZoneInfo
    step_minutes: int
    doctors: list[DoctorDay]

    def data(self) -> dict[str, Any]:
        """The day as `-o json` and the API give it: times in ISO 8601 with the clinic's offset."""
        return {
            "date": self.day.isoformat(),
            "zone": self.zone.key,
            "step_minutes": self.step_minutes,
            "doctors": [_doctor_data(doctor, self.zone) for doctor in self.doctors],
        }


def _doctor_data(doctor: DoctorDay, zone: ZoneInfo) -> dict[str, Any]:
    def spans(items: list[Span]) -> list[dict[str, Any]]:
        return [{"start": show(start, zone), "end": show(end, zone)} for start, end in items]

    return {
        "id": doctor.id,
        "full_name": doctor.full_name,
        "specialization": doctor.specialization,
        "hours": spans(doctor.hours),
        "time_off": [
            {"id": off.id, "start": show(off.start, zone), "end": show(off.end, zone), "reason": off.reason}
            for off in doctor.time_off
        ],
        "appointments": [
            {
                "id": visit.id,
                "patient_id": visit.patient_id,
                "patient_name": visit.patient_name,
                "start_time": show(visit.start, zone),
                "end_time": show(visit.end, zone),
                "status": visit.status,
            }
            for visit in doctor.visits
        ],  # fmt: skip
        "free": spans(doctor.free),
    }


def day_schedule(
    session: Session,
    day: date,
    zone: ZoneInfo,
    *,
    doctor_ids: Sequence[int] = (),
    specialization: str | None = None,
    default_hours: WeeklyHours,
    step: int = DEFAULT_STEP,
) -> DaySchedule:
    """One clinic day per doctor: hours, time off, appointments (not cancelled) and free time.

    Doctors shown: `doctor_ids` (in that order; 404 for an unknown one), else the active doctors of
    `specialization` (404 if none), else every active doctor who works that day and every doctor with an
    appointment that day. Four queries, none per doctor.
    """
    if doctor_ids and specialization:
        raise rules.one_of("doctor_id", "specialization")
    bounds = day_bounds(day, zone)
    doctors = _shown_doctors(session, day, bounds, doctor_ids, specialization, default_hours)
    ids = [doctor.id for doctor in doctors]
    weeks = weeks_of(session, ids, default_hours)
    time_off = time_off_between(session, ids, *bounds)
    visits = _visits_of_day(session, ids, bounds)
    shown = []
    for doctor in doctors:
        hours = list(day_intervals(weeks[doctor.id], day, zone))
        offs, seen = time_off.get(doctor.id, []), visits.get(doctor.id, [])
        busy = _merged([(off.start, off.end) for off in offs] + [(visit.start, visit.end) for visit in seen])
        day_of = DoctorDay(doctor.id, doctor.full_name, doctor.specialization, doctor.is_active, hours, offs, seen,
                           _without(hours, busy))  # fmt: skip
        shown.append(day_of)
    return DaySchedule(day, zone, step, shown)


def _shown_doctors(
    session: Session,
    day: date,
    bounds: Span,
    doctor_ids: Sequence[int],
    specialization: str | None,
    default_hours: WeeklyHours,
) -> list[Any]:
    m = models_of(session)
    doctor = m.Doctor
    query = select(doctor.id, doctor.full_name, doctor.specialization, doctor.is_active).order_by(doctor.id)
    if doctor_ids:
        wanted = list(dict.fromkeys(doctor_ids))  # in the order given, once each
        found = {row.id: row for row in session.execute(query.where(doctor.id.in_(wanted)))}
        for doctor_id in wanted:
            if doctor_id not in found:
                raise rules.not_found("doctor", doctor_id, "doctor_id")
        return [found[doctor_id] for doctor_id in wanted]
    if specialization:
        matching = contains_ignoring_case(session, specialization, [doctor.specialization])
        rows = list(session.execute(query.where(doctor.is_active.is_(True), matching)))
        if not rows:
            raise rules.no_active_doctor(specialization)
        return rows
    working = and_(doctor.is_active.is_(True), _works_on(session, day, default_hours))
    return list(session.execute(query.where(or_(working, _has_visit(session, bounds)))))


def _works_on(session: Session, day: date, default_hours: WeeklyHours) -> ColumnElement[bool]:
    """The doctor has hours on `day`'s weekday: their own, or, with none of their own, the clinic's."""
    m = models_of(session)
    hours, doctor = m.DoctorHours, m.Doctor
    own_that_day = exists().where(hours.doctor_id == doctor.id, hours.weekday == day.isoweekday())
    if not default_hours[day.weekday()]:
        return own_that_day
    return or_(own_that_day, ~exists().where(hours.doctor_id == doctor.id))


def _has_visit(session: Session, bounds: Span) -> ColumnElement[bool]:
    m = models_of(session)
    appointment, doctor = m.Appointment, m.Doctor
    return exists().where(appointment.doctor_id == doctor.id, *_reaching_into(session, bounds))


def _reaching_into(session: Session, bounds: Span) -> list[ColumnElement[bool]]:
    """Appointments that are not cancelled and reach into [start, end) (read from the index on startTime)."""
    appointment = models_of(session).Appointment
    return [*rules.reaching_into(appointment, *bounds), appointment.status != CANCELLED]


def _visits_of_day(session: Session, doctor_ids: list[int], bounds: Span) -> dict[int, list[Visit]]:
    """The doctors' appointments of the day with their patients' names (as appointment records name them),
    in one query: an inner join, as a visit is shown by its patient's name."""
    m = models_of(session)
    appointment, patient = m.Appointment, m.Patient
    if not doctor_ids:
        return {}
    patient_name = appointment_names(m).expressions["patient_name"]
    query = (
        select(
            appointment.doctor_id,
            appointment.id,
            appointment.patient_id,
            patient_name,
            appointment.start_time,
            appointment.end_time,
            appointment.status,
        )  # fmt: skip
        .join(patient, patient.id == appointment.patient_id)
        .where(appointment.doctor_id.in_(doctor_ids), *_reaching_into(session, bounds))
        .order_by(appointment.doctor_id, appointment.start_time, appointment.id)
    )
    found: dict[int, list[Visit]] = {}
    for doctor_id, visit_id, patient_id, name, start, end, status in session.execute(query):
        found.setdefault(doctor_id, []).append(Visit(visit_id, patient_id, name, start, end, status))
    return found


def _without(hours: list[Span], busy: list[Span]) -> list[Span]:
    """The parts of `hours` that no span of `busy` (merged, in order) covers."""
    free: list[Span] = []
    for start, end in hours:
        cursor = start
        for busy_start, busy_end in busy:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                free.append((cursor, busy_start))
            cursor = max(cursor, busy_end)
        if cursor < end:
            free.append((cursor, end))
    return free
