"""Every business rule's error, written once, and the checks that raise them.

Single-record services raise these errors; batch import collects the very
same errors into rejected rows (`Rejection.from_error`), so a rule reads the
same on every path: command line, import and HTTP API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import show
from encounter_cli.domain import MAX_DURATION, AppointmentStatus
from encounter_cli.errors import Conflict, EncounterError, InvalidInput, NotFound
from encounter_cli.models import AppointmentColumns, DoctorColumns, models_of
from encounter_cli.working_hours import WeeklyHours, within_hours

if TYPE_CHECKING:
    from encounter_cli.services.time_off import TimeOff

# --- the errors ---------------------------------------------------------------------------------------------------


def not_found(entity: str, entity_id: int | str, field: str = "id") -> NotFound:
    return NotFound(entity, entity_id, field=field)


def id_taken(entity: str, entity_id: int | None) -> Conflict:
    return Conflict(f"{entity} id {entity_id} is already taken", field="id", id=entity_id)


def email_taken(email: str) -> Conflict:
    """Rule 1, against a stored patient."""
    return Conflict(f'email: "{email}" is already used by another patient', field="email", value=email)


def token_name_taken(name: str) -> Conflict:
    """API token names are unique: a name is who made a change."""
    return Conflict(f'API token name "{name}" is already taken', field="name", value=name)


def repeated_in_input(field: str, value: Any, first_line: int) -> Conflict:
    """A key (email, id) given by an earlier row of the same import."""
    return Conflict(
        f'{field}: "{value}" appears twice in the input (first at line {first_line})', field=field, line=first_line
    )


def doctor_inactive(doctor_id: int) -> Conflict:
    """Rule 2."""
    return Conflict(f"doctor {doctor_id} is inactive and cannot be booked", field="doctor_id", doctor_id=doctor_id)


def not_in_future(start: datetime, zone: ZoneInfo) -> InvalidInput:
    """Rule 3."""
    return InvalidInput("start_time", show(start, zone), "must be in the future")


def slot_taken(
    doctor_id: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    *,
    appointment_id: int | None,
    line: int | None = None,
) -> Conflict:
    """Rule 5, naming what holds the slot: a stored appointment, or (import) an earlier line of the input."""
    return _booked_then(f"doctor {doctor_id}", start, end, zone, appointment_id, line, doctor_id=doctor_id)


def patient_busy(
    patient_id: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    *,
    appointment_id: int | None,
    line: int | None = None,
) -> Conflict:
    """Rule 9: a patient is in one place at a time, with whichever doctor."""
    hint = "to book both anyway, add --allow-patient-overlap"
    return _booked_then(f"patient {patient_id}", start, end, zone, appointment_id, line, hint, patient_id=patient_id)


def _booked_then(
    who: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    appointment_id: int | None,
    line: int | None,
    hint: str | None = None,
    **whose: int,
) -> Conflict:
    holder = f"appointment {appointment_id}" if appointment_id is not None else f"line {line} of this input"
    return Conflict(
        f"{who} is already booked from {show(start, zone)} to {show(end, zone)} ({holder})",
        field="start_time",
        hint=hint,
        **whose,
        appointment_id=appointment_id,
        line=line,
    )


def outside_hours(doctor_id: int, start: datetime, end: datetime, zone: ZoneInfo) -> Conflict:
    """A booking must lie inside one of the doctor's working intervals (README: Working hours)."""
    return Conflict(
        f"doctor {doctor_id} does not work from {show(start, zone)} to {show(end, zone)} (outside working hours)",
        field="start_time",
        hint=f"see the hours with: encounter doctor hours {doctor_id}",
        doctor_id=doctor_id,
    )


def on_time_off(doctor_id: int, start: datetime, end: datetime, zone: ZoneInfo, time_off_id: int) -> Conflict:
    return Conflict(
        f"doctor {doctor_id} is off from {show(start, zone)} to {show(end, zone)} (time off {time_off_id})",
        field="start_time",
        doctor_id=doctor_id,
        time_off_id=time_off_id,
    )


def no_hours(doctor_id: int) -> InvalidInput:
    """Free slots need working hours: without them a doctor is bookable at any time, which is no list."""
    return InvalidInput(
        "doctor_id",
        doctor_id,
        "has no working hours, so there are no slots to offer",
        hint=f'set them: encounter doctor hours {doctor_id} --set "mon-fri 09:00-17:00" (or [clinic] hours)',
    )


def no_hours_given() -> InvalidInput:
    return InvalidInput("hours", "", "gives no working hours", hint="to remove a doctor's own hours, use --clear")


def no_hours_among(specialization: str) -> InvalidInput:
    """Free slots of a specialization whose active doctors all lack working hours."""
    return InvalidInput(
        "specialization",
        specialization,
        "matches no active doctor with working hours, so there are no slots to offer",
        hint='set them: encounter doctor hours ID --set "mon-fri 09:00-17:00" (or [clinic] hours)',
    )


class _NoMatch(NotFound):
    """A search that matches nothing: not found, as an unknown id is, in words that fit a search."""

    def __init__(self, message: str, field: str, value: str) -> None:
        EncounterError.__init__(self, message, field=field, value=value)
        self.entity = "doctor"


def no_active_doctor(specialization: str) -> NotFound:
    """A specialization that no active doctor has (`doctor list --specialization` matching): nobody to offer."""
    shown = specialization if len(specialization) <= 80 else specialization[:77] + "..."  # one readable line
    message = f'specialization: "{shown}" matches no active doctor'
    return _NoMatch(message, "specialization", specialization)


def one_of(first: str, second: str) -> InvalidInput:
    """Two inputs that exclude each other, one of which is needed."""
    return InvalidInput(first, None, f"give either {first} or {second}, not both and not neither")


def out_of_range(field: str, value: int, low: int, high: int, unit: str = "minutes") -> InvalidInput:
    """A number outside its bounds (a slot search's duration or step)."""
    return InvalidInput(field, value, f"must be between {low} and {high} {unit}")


def range_too_long(start: datetime, end: datetime, zone: ZoneInfo, days: int) -> InvalidInput:
    """A search range longer than `days`: a typo (a year for a month) rather than a question to answer."""
    return InvalidInput(
        "to",
        show(end, zone),
        f"is more than {days} days after from ({show(start, zone)})",
        hint=f"search at most {days} days at a time",
    )


def not_booked(appointment_id: int, status: str, action: str) -> Conflict:
    """Rule 7 and the outcomes: only a booked appointment can change its status."""
    return Conflict(
        f"appointment {appointment_id} is {status}; only booked appointments can be {action}",
        field="status",
        status=str(status),
    )


def already_started(appointment_id: int, action: str = "cancelled") -> Conflict:
    """Rule 7: the past is not cancelled, nor moved."""
    return Conflict(
        f"appointment {appointment_id} has already started; past appointments cannot be {action}", field="start_time"
    )


def not_started(appointment_id: int, outcome: str) -> Conflict:
    """An outcome is known only once the appointment's start has passed."""
    return Conflict(
        f"appointment {appointment_id} has not started yet; only past appointments can be marked {outcome}",
        field="start_time",
    )


def range_reversed(start: datetime, end: datetime, zone: ZoneInfo) -> InvalidInput:
    """A stretch of time (time off: `--from`/`--to`) whose end is not after its start."""
    return InvalidInput(
        "end_time", show(end, zone), f"must be later than {{other}} ({show(start, zone)})", other="start_time"
    )


# --- the checks ---------------------------------------------------------------------------------------------------


def ensure_future(start: datetime, now: datetime, zone: ZoneInfo) -> None:
    """Rule 3: strictly after now."""
    if start <= now:
        raise not_in_future(start, zone)


def ensure_exists(session: Session, model: type[Any], entity: str, entity_id: int, field: str = "id") -> None:
    if session.get(model, entity_id) is None:
        raise not_found(entity, entity_id, field)


def ensure_range(start_from: datetime | None, start_before: datetime | None, zone: ZoneInfo) -> None:
    """A time range whose start is later than its end is a typo, not an empty answer."""
    if start_from is not None and start_before is not None and start_from > start_before:
        raise InvalidInput(
            "from", show(start_from, zone), f"is later than {{other}} ({show(start_before, zone)})", other="to"
        )


def ensure_id_free(session: Session, model: type[Any], entity: str, entity_id: int | None) -> None:
    if entity_id is not None and session.get(model, entity_id) is not None:
        raise id_taken(entity, entity_id)


def ensure_email_free(session: Session, email: str) -> None:
    if exists(session, models_of(session).Patient, email=email):
        raise email_taken(email)


def exists(session: Session, model: type[Any], **where: object) -> bool:
    return session.scalar(select(model.id).filter_by(**where).limit(1)) is not None


def ensure_changeable(appointment: AppointmentColumns, now: datetime, action: str) -> None:
    """Rule 7, for cancelling and rescheduling: a future booked appointment."""
    if appointment.status != AppointmentStatus.booked:
        raise not_booked(appointment.id, appointment.status, action)
    if appointment.start_time <= now:
        raise already_started(appointment.id, action)


def ensure_outcome_known(appointment: AppointmentColumns, now: datetime, outcome: AppointmentStatus) -> None:
    """Only a booked appointment whose start has passed gets an outcome."""
    shown = outcome.value.replace("_", "-")
    if appointment.status != AppointmentStatus.booked:
        raise not_booked(appointment.id, appointment.status, f"marked {shown}")
    if appointment.start_time > now:
        raise not_started(appointment.id, shown)


def ensure_active(doctor: DoctorColumns) -> None:
    if not doctor.is_active:
        raise doctor_inactive(doctor.id)


def ensure_slot_free(
    session: Session, doctor_id: int, start: datetime, end: datetime, zone: ZoneInfo, except_id: int | None = None
) -> None:
    """Rule 5 with half-open intervals: [9:00, 9:30) and [9:30, 10:00) do not overlap.

    `except_id`: the appointment being moved, which never clashes with itself.
    """
    appointment = models_of(session).Appointment
    clash = _booked_overlap(session, appointment.doctor_id == doctor_id, start, end, except_id)
    if clash is not None:
        raise slot_taken(doctor_id, clash.start_time, clash.end_time, zone, appointment_id=clash.id)


def ensure_patient_free(
    session: Session, patient_id: int, start: datetime, end: datetime, zone: ZoneInfo, except_id: int | None = None
) -> None:
    """Rule 9: none of the patient's booked appointments, with any doctor, overlaps [start, end)."""
    appointment = models_of(session).Appointment
    clash = _booked_overlap(session, appointment.patient_id == patient_id, start, end, except_id)
    if clash is not None:
        raise patient_busy(patient_id, clash.start_time, clash.end_time, zone, appointment_id=clash.id)


def reaching_into(appointment: type[AppointmentColumns], start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Conditions for appointments that overlap [start, end), whatever their status.

    No appointment is longer than MAX_DURATION, so only those starting after
    `start - MAX_DURATION` can reach into it: an index on (doctorId or patientId,
    or nothing, then startTime) is read over a short range, not a whole history.
    """
    return [
        appointment.start_time > start - timedelta(minutes=MAX_DURATION),
        appointment.start_time < end,
        appointment.end_time > start,
    ]


def _booked_overlap(
    session: Session, whose: ColumnElement[bool], start: datetime, end: datetime, except_id: int | None
) -> Row[int, datetime, datetime] | None:
    """The first booked appointment of a doctor or patient (`whose`) that overlaps [start, end)."""
    appointment = models_of(session).Appointment
    query = select(appointment.id, appointment.start_time, appointment.end_time).where(
        whose, *reaching_into(appointment, start, end), appointment.status == AppointmentStatus.booked.value
    )
    if except_id is not None:
        query = query.where(appointment.id != except_id)
    return session.execute(query.limit(1)).first()


def ensure_within_hours(week: WeeklyHours, doctor_id: int, start: datetime, end: datetime, zone: ZoneInfo) -> None:
    if not within_hours(week, start, end, zone):
        raise outside_hours(doctor_id, start, end, zone)


def ensure_not_off(doctor_id: int, time_off: Sequence[TimeOff], zone: ZoneInfo) -> None:
    """`time_off`: the doctor's time off that intersects the booking (`time_off_between`), which must be none;
    the earliest is named."""
    if time_off:
        first = time_off[0]
        raise on_time_off(doctor_id, first.start, first.end, zone, first.id)
