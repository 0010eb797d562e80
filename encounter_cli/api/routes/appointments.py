"""/appointments: book, list, show and cancel appointments. Times carry their offset (RFC 3339)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import CallerDep
from encounter_cli.clinic_time import clinic_day, parse_instant
from encounter_cli.domain import MAX_ID, AppointmentStatus
from encounter_cli.schemas import AppointmentCreate, Cancellation

router = APIRouter(prefix="/appointments", tags=["appointments"])
AppointmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Appointment id.")]
RecordFilter = Query(ge=1, le=MAX_ID)
Instant = Query(description="RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00.")


@router.post(
    "",
    status_code=201,
    response_model=responses.Appointment,
    responses=responses.documented(404, 409, 413),
)
async def book_appointment(
    caller: CallerDep, data: Annotated[AppointmentCreate, Depends(JsonBody(AppointmentCreate))]
) -> Response:
    """Book a free slot of an active doctor: 404 for an unknown patient or doctor, 409 if the slot is taken."""
    appointment = await caller.run(lambda session: services.book_appointment(session, data, zone=caller.zone))
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
        day=clinic_day(day, zone) if day is not None else None,
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
