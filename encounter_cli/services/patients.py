"""Patient services: add, show, list, update."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from encounter_cli.errors import Conflict, EncounterError, InvalidInput, NotFound
from encounter_cli.models import PatientColumns, models_of
from encounter_cli.services.common import Listing, conflict_guard, exists, stamp

if TYPE_CHECKING:  # schemas build Pydantic models: import them only where input is parsed
    from encounter_cli.schemas import PatientCreate, PatientUpdate


def add_patient(session: Session, data: PatientCreate, now: datetime | None = None) -> PatientColumns:
    m = models_of(session)
    _ensure_email_free(session, data.email)
    if data.id is not None and session.get(m.Patient, data.id) is not None:
        raise Conflict(f"patient id {data.id} is already taken", field="id", id=data.id)
    created = stamp(now)
    patient = m.Patient(**data.model_dump(), created_at=created, updated_at=created)
    with conflict_guard(session, lambda: _explain_insert_conflict(session, data)):
        session.add(patient)
    return patient


def get_patient(session: Session, patient_id: int) -> PatientColumns:
    patient = session.get(models_of(session).Patient, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    return patient


def list_patients(
    session: Session, search: str | None = None, limit: int | None = None, offset: int = 0
) -> Listing[PatientColumns]:
    """Patients by id; `search` matches names and email, case-insensitively, literally."""
    patient = models_of(session).Patient
    query = select(patient).order_by(patient.id)
    if search:
        query = query.where(
            or_(
                *(
                    column.icontains(search, autoescape=True)
                    for column in (patient.first_name, patient.last_name, patient.email)
                )
            )
        )
    return Listing(session, query, limit, offset)


def update_patient(
    session: Session, patient_id: int, changes: PatientUpdate, now: datetime | None = None
) -> PatientColumns:
    """Change only the fields given (`model_fields_set`)."""
    patient = get_patient(session, patient_id)
    values = changes.model_dump(include=changes.model_fields_set)
    if not values:
        raise InvalidInput("update", None, "needs at least one field to change")
    if values.get("email") not in (None, patient.email):
        _ensure_email_free(session, values["email"])
    with conflict_guard(session, lambda: _email_taken(values.get("email"))):
        for field, value in values.items():
            if value is None and field in ("first_name", "last_name", "email"):
                continue  # required fields cannot be cleared
            setattr(patient, field, value)
        patient.updated_at = stamp(now)
    return patient


def _ensure_email_free(session: Session, email: str) -> None:
    if exists(session, models_of(session).Patient, email=email):
        raise _email_taken(email)


def _email_taken(email: str | None) -> EncounterError:
    return Conflict(f'email: "{email}" is already used by another patient', field="email", value=email)


def _explain_insert_conflict(session: Session, data: PatientCreate) -> EncounterError:
    if exists(session, models_of(session).Patient, email=data.email):
        return _email_taken(data.email)
    return Conflict(f"patient id {data.id} is already taken", field="id", id=data.id)
