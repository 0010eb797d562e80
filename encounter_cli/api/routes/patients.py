"""/patients: add, list, show and update patients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import CallerDep
from encounter_cli.domain import MAX_ID
from encounter_cli.schemas import PatientCreate, PatientUpdate

router = APIRouter(prefix="/patients", tags=["patients"])
PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="Patient id.")]


@router.post(
    "",
    status_code=201,
    response_model=responses.Patient,
    responses=responses.documented(409, 413),
)
async def add_patient(caller: CallerDep, data: Annotated[PatientCreate, Depends(JsonBody(PatientCreate))]) -> Response:
    """Add a patient; the email must not be used by another patient (409)."""
    patient = await caller.run(lambda session: services.add_patient(session, data))
    return responses.record(patient, caller.zone, status_code=201)


@router.get("", response_model=list[responses.Patient], responses=responses.listed())
async def list_patients(
    caller: CallerDep,
    search: str | None = None,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
    offset: Annotated[int, responses.Offset] = 0,
) -> Response:
    """Patients by id; each word of `search` is part of the first name, last name or email, in any order,
    ignoring case; phone-like text (digits, spaces, `+-().`, 3 digits or more) also finds the phone by its
    digits."""
    return await caller.run(
        lambda session: responses.page(services.list_patients(session, search, limit, offset), caller.zone),
        write=False,
    )


@router.get("/{patient_id}", response_model=responses.Patient, responses=responses.documented(404))
async def show_patient(caller: CallerDep, patient_id: PatientId) -> Response:
    patient = await caller.run(lambda session: services.get_patient(session, patient_id), write=False)
    return responses.record(patient, caller.zone)


@router.patch(
    "/{patient_id}",
    response_model=responses.Patient,
    responses=responses.documented(404, 409, 413),
)
async def update_patient(
    caller: CallerDep, patient_id: PatientId, changes: Annotated[PatientUpdate, Depends(JsonBody(PatientUpdate))]
) -> Response:
    """Change the fields given; `null` or "" clears the phone or the date of birth."""
    patient = await caller.run(lambda session: services.update_patient(session, patient_id, changes))
    return responses.record(patient, caller.zone)
