"""/appointments: book, list, show and cancel appointments. Times carry their offset (RFC 3339)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import Caller, CallerDep
from encounter_cli.clinic_time import calendar_day, parse_instant
from encounter_cli.domain import MAX_ID, AppointmentStatus
from encounter_cli.schemas import AppointmentCreate, Cancellation, Reschedule

router = APIRouter(prefix="/appointments", tags=["appointments"])
AppointmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Appointment id.")]
RecordFilter = Query(ge=1, le=MAX_ID)
Instant = Query(description="RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00.")
AllowPatientOverlap = Annotated[
    bool, Query(description="Book even if the patient has another appointment then (rule 9 waived).")
]


@router.post(
    "",
    status_code=201,
    response_model=responses.Appointment,
    responses=responses.documented(404, 409, 413),
)
async def book_appointment(
    caller: CallerDep,
    data: Annotated[AppointmentCreate, Depends(JsonBody(AppointmentCreate))],
    allow_patient_overlap: AllowPatientOverlap = False,
) -> Response:
    """Book a free slot of an active doctor inside their hours: 404 for an unknown patient or doctor, 409 if the
    slot, or the patient (unless allow_patient_overlap), is taken, or the doctor is inactive, off or not working."""
    appointment = await caller.run(
        lambda session: services.book_appointment(
            session, data, zone=caller.zone, default_hours=caller.hours, allow_patient_overlap=allow_patient_overlap
        )
    )
    return responses.record(appointment, caller.zone, status_code=201)


@router.get("", response_model=list[responses.Appointment], responses=responses.listed(404))
async def list_appointments(
    caller: CallerDep,
    day: Annotated[str | None, Query(alias="date", description="A clinic-local day, YYYY-MM-DD.")] = None,
    doctor_id: Annotated[int | None, RecordFilter] = None,
    patient_id: Annotated[int | None, RecordFilter] = None,
    status: AppointmentStatus | None = None,
    start_from: Annotated[str | None, Query(alias="from", description=Instant.description)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=f"{Instant.description} Exclusive.")] = None,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
    offset: Annotated[int, responses.Offset] = 0,
) -> Response:
    """Appointments in start order; without filters, booked ones from the start of today (clinic time)."""
    zone = caller.zone
    where = services.appointment_filter(
        zone,
        day=calendar_day(day, zone) if day is not None else None,
        start_from=parse_instant(start_from, zone, "from") if start_from is not None else None,
        start_before=parse_instant(start_to, zone, "to") if start_to is not None else None,
        doctor_id=doctor_id,
        patient_id=patient_id,
        status=status,
    )
    return await caller.run(
        lambda session: responses.page(services.list_appointments(session, where, limit, offset), zone), write=False
    )


@router.get("/{appointment_id}", response_model=responses.Appointment, responses=responses.documented(404))
async def show_appointment(caller: CallerDep, appointment_id: AppointmentId) -> Response:
    appointment = await caller.run(lambda session: services.get_appointment(session, appointment_id), write=False)
    return responses.record(appointment, caller.zone)


@router.post(
    "/{appointment_id}/cancel",
    response_model=responses.Appointment,
    responses=responses.documented(404, 409, 413),
)
async def cancel_appointment(
    caller: CallerDep, appointment_id: AppointmentId, body: Annotated[Cancellation, Depends(JsonBody(Cancellation))]
) -> Response:
    """Cancel a future booked appointment (its slot becomes free); the body's `reason` is optional."""
    appointment = await caller.run(lambda session: services.cancel_appointment(session, appointment_id, body.reason))
    return responses.record(appointment, caller.zone)


@router.post(
    "/{appointment_id}/reschedule",
    response_model=responses.Appointment,
    responses=responses.documented(404, 409, 413),
)
async def reschedule_appointment(
    caller: CallerDep,
    appointment_id: AppointmentId,
    change: Annotated[Reschedule, Depends(JsonBody(Reschedule))],
    allow_patient_overlap: AllowPatientOverlap = False,
) -> Response:
    """Move a future booked appointment to `start_time` (and `duration_minutes`, `doctor_id` if given), keeping
    its id; every booking rule is checked again, the appointment itself excepted."""
    appointment = await caller.run(
        lambda session: services.reschedule_appointment(
            session,
            appointment_id,
            change,
            zone=caller.zone,
            default_hours=caller.hours,
            allow_patient_overlap=allow_patient_overlap,
        )
    )
    return responses.record(appointment, caller.zone)


OUTCOME = responses.documented(404, 409)


@router.post("/{appointment_id}/complete", response_model=responses.Appointment, responses=OUTCOME)
async def complete_appointment(caller: CallerDep, appointment_id: AppointmentId) -> Response:
    """Mark a booked appointment whose start has passed as completed; 409 for any other status or a future one."""
    return await _record_outcome(caller, appointment_id, AppointmentStatus.completed)


@router.post("/{appointment_id}/no-show", response_model=responses.Appointment, responses=OUTCOME)
async def no_show_appointment(caller: CallerDep, appointment_id: AppointmentId) -> Response:
    """Mark a booked appointment whose start has passed as no_show; 409 for any other status or a future one."""
    return await _record_outcome(caller, appointment_id, AppointmentStatus.no_show)


async def _record_outcome(caller: Caller, appointment_id: int, outcome: AppointmentStatus) -> Response:
    appointment = await caller.run(lambda session: services.record_outcome(session, appointment_id, outcome))
    return responses.record(appointment, caller.zone)
