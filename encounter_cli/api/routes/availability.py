"""/doctors/{id}/hours and time off: when a doctor can be booked (hours are clinic wall time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import CallerDep
from encounter_cli.clinic_time import parse_instant
from encounter_cli.domain import MAX_ID
from encounter_cli.schemas import HoursChange, TimeOffCreate
from encounter_cli.services import HoursReport
from encounter_cli.working_hours import parse_hours

router = APIRouter(tags=["availability"])
DoctorId = Annotated[int, Path(ge=1, le=MAX_ID, description="Doctor id.")]
TimeOffId = Annotated[int, Path(ge=1, le=MAX_ID, description="Time off id.")]
INSIDE = "X-Booked-Inside"
Instant = "RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00."


def _hours(report: HoursReport) -> Response:
    return responses.facts(report.facts())


@router.get("/doctors/{doctor_id}/hours", response_model=responses.Hours, responses=responses.documented(404))
async def show_hours(caller: CallerDep, doctor_id: DoctorId) -> Response:
    """The doctor's weekly hours in effect: their own, else the clinic's default, else none (bookable any time)."""
    report = await caller.run(lambda s: services.get_hours(s, doctor_id, caller.hours), write=False)
    return _hours(report)


@router.put("/doctors/{doctor_id}/hours", response_model=responses.Hours, responses=responses.documented(404, 413))
async def set_hours(
    caller: CallerDep, doctor_id: DoctorId, body: Annotated[HoursChange, Depends(JsonBody(HoursChange))]
) -> Response:
    """Replace the doctor's hours (`doctor hours --set` groups); bookings stay, `outside_hours` counts those
    now outside."""
    week = parse_hours(body.hours)
    report = await caller.run(lambda s: services.set_hours(s, doctor_id, week, caller.hours, caller.zone))
    return _hours(report)


@router.delete("/doctors/{doctor_id}/hours", response_model=responses.Hours, responses=responses.documented(404))
async def clear_hours(caller: CallerDep, doctor_id: DoctorId) -> Response:
    """Remove the doctor's own hours: the clinic's default applies (or none)."""
    report = await caller.run(lambda s: services.set_hours(s, doctor_id, None, caller.hours, caller.zone))
    return _hours(report)


@router.post(
    "/doctors/{doctor_id}/time-off",
    status_code=201,
    response_model=responses.TimeOff,
    responses=responses.documented(
        404,
        413,
        id_lists={INSIDE: "Booked appointments inside the time off, to be moved: ids, comma-separated."},
        success=201,
    ),
)
async def add_time_off(
    caller: CallerDep, doctor_id: DoctorId, data: Annotated[TimeOffCreate, Depends(JsonBody(TimeOffCreate))]
) -> Response:
    """Make the doctor unbookable in [start_time, end_time). Bookings inside stay; X-Booked-Inside lists them."""
    added = await caller.run(
        lambda s: services.add_time_off(s, doctor_id, data.start_time, data.end_time, caller.zone, data.reason)
    )
    inside = ",".join(str(appointment.id) for appointment in added.booked)
    return responses.record(added.time_off, caller.zone, status_code=201, headers={INSIDE: inside})


@router.get("/doctors/{doctor_id}/time-off", response_model=list[responses.TimeOff], responses=responses.listed(404))
async def list_time_off(
    caller: CallerDep,
    doctor_id: DoctorId,
    start_from: Annotated[str | None, Query(alias="from", description=Instant)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=f"{Instant} Exclusive.")] = None,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
    offset: Annotated[int, responses.Offset] = 0,
) -> Response:
    """The doctor's time off reaching into from..to, in start order; without either, what has not ended yet."""
    zone = caller.zone
    first = parse_instant(start_from, zone, "from") if start_from is not None else None
    after = parse_instant(start_to, zone, "to") if start_to is not None else None
    return await caller.run(
        lambda s: responses.page(
            services.list_time_off(s, doctor_id, first, after, zone, limit=limit, offset=offset), zone
        ),
        write=False,
    )


@router.delete("/time-off/{time_off_id}", response_model=responses.TimeOff, responses=responses.documented(404))
async def remove_time_off(caller: CallerDep, time_off_id: TimeOffId) -> Response:
    """Remove one stretch of time off; the answer is what was removed."""
    removed = await caller.run(lambda s: services.remove_time_off(s, time_off_id))
    return responses.record(removed, caller.zone)
