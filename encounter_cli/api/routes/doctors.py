"""/doctors: add, list, show, activate and deactivate doctors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import CallerDep
from encounter_cli.domain import MAX_ID
from encounter_cli.schemas import DoctorCreate

router = APIRouter(prefix="/doctors", tags=["doctors"])
DoctorId = Annotated[int, Path(ge=1, le=MAX_ID, description="Doctor id.")]


@router.post(
    "",
    status_code=201,
    response_model=responses.Doctor,
    responses=responses.documented(409, 413),
)
async def add_doctor(caller: CallerDep, data: Annotated[DoctorCreate, Depends(JsonBody(DoctorCreate))]) -> Response:
    """Add a doctor, active unless `is_active` is false."""
    doctor = await caller.run(lambda session: services.add_doctor(session, data))
    return responses.record(doctor, caller.zone, status_code=201)


@router.get("", response_model=list[responses.Doctor], responses=responses.listed())
async def list_doctors(
    caller: CallerDep,
    active: bool | None = None,
    specialization: str | None = None,
    search: str | None = None,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
    offset: Annotated[int, responses.Offset] = 0,
) -> Response:
    """Doctors by id; `specialization` matches part of it, ignoring case; each word of `search` is part
    of the full name, in any order."""
    return await caller.run(
        lambda session: responses.page(
            services.list_doctors(session, active, specialization, limit, offset, search=search), caller.zone
        ),
        write=False,
    )


@router.get("/{doctor_id}", response_model=responses.Doctor, responses=responses.documented(404))
async def show_doctor(caller: CallerDep, doctor_id: DoctorId) -> Response:
    doctor = await caller.run(lambda session: services.get_doctor(session, doctor_id), write=False)
    return responses.record(doctor, caller.zone)


REMAINING = "X-Booked-Remaining"
ACTIVATED = responses.documented(404, counts={REMAINING: "The doctor's future booked appointments, kept."})


@router.post("/{doctor_id}/deactivate", response_model=responses.Doctor, responses=ACTIVATED)
async def deactivate_doctor(caller: CallerDep, doctor_id: DoctorId) -> Response:
    """Make the doctor unbookable; existing appointments stay booked, and X-Booked-Remaining counts them."""
    result = await caller.run(lambda session: services.set_doctor_active(session, doctor_id, False))
    return responses.record(result.doctor, caller.zone, headers={REMAINING: str(result.booked_remaining)})


@router.post("/{doctor_id}/activate", response_model=responses.Doctor, responses=ACTIVATED)
async def activate_doctor(caller: CallerDep, doctor_id: DoctorId) -> Response:
    result = await caller.run(lambda session: services.set_doctor_active(session, doctor_id, True))
    return responses.record(result.doctor, caller.zone, headers={REMAINING: str(result.booked_remaining)})
