"""Patient services: add, show, list, update."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from encounter_cli.errors import EncounterError, InvalidInput
from encounter_cli.models import PatientColumns, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import Listing, conflict_guard, every_word_in, phone_digits_hold, stamp

if TYPE_CHECKING:  # schemas build Pydantic models: import them only where input is parsed
    from encounter_cli.schemas import PatientCreate, PatientUpdate


def add_patient(session: Session, data: PatientCreate, now: datetime | None = None) -> PatientColumns:
    m = models_of(session)
    rules.ensure_email_free(session, data.email)
    rules.ensure_id_free(session, m.Patient, "patient", data.id)
    created = stamp(now)
    patient = m.Patient(**data.model_dump(), created_at=created, updated_at=created)
    with conflict_guard(session, lambda: _lost_race(session, data.email, data.id)):
        session.add(patient)
    audit.added(session, "patient.add", "patient", patient)
    return patient


def get_patient(session: Session, patient_id: int) -> PatientColumns:
    patient = session.get(models_of(session).Patient, patient_id)
    if patient is None:
        raise rules.not_found("patient", patient_id)
    return patient


def list_patients(
    session: Session, search: str | None = None, limit: int | None = None, offset: int = 0
) -> Listing[PatientColumns]:
    """Patients by id; `search` as `_found_by` reads it."""
    patient = models_of(session).Patient
    query = select(patient).order_by(patient.id)
    if search and not search.isspace():  # spaces alone: no search, as an empty one
        query = query.where(_found_by(session, search))
    return Listing(session, query, limit, offset)


def _found_by(session: Session, text: str) -> ColumnElement[bool]:
    """Each word is part of the first name, last name or email, in any order and case, literally ("lovelace
    ada"); or, for phone-like text, its digits are in the phone's, ignoring punctuation ("555-123")."""
    patient = models_of(session).Patient
    found = every_word_in(session, text, (patient.first_name, patient.last_name, patient.email))
    phone = phone_digits_hold(patient.phone, text)
    return found if phone is None else or_(found, phone)


def update_patient(
    session: Session, patient_id: int, changes: PatientUpdate, now: datetime | None = None
) -> PatientColumns:
    """Change only the fields given (`model_fields_set`)."""
    patient = get_patient(session, patient_id)
    values = changes.model_dump(include=changes.model_fields_set)
    if not values:
        raise InvalidInput("update", None, "needs at least one field to change")
    email = values.get("email") or patient.email
    if email != patient.email:
        rules.ensure_email_free(session, email)
    before = audit.snapshot(patient, values)
    with conflict_guard(session, lambda: rules.email_taken(email)):
        for field, value in values.items():  # PatientUpdate refuses to clear a required field
            setattr(patient, field, value)
        patient.updated_at = stamp(now)
    audit.changed(session, "patient.update", "patient", patient, before)
    return patient


def _lost_race(session: Session, email: str, patient_id: int | None) -> EncounterError:
    """A concurrent writer stored the email or the id between our check and our insert."""
    if rules.exists(session, models_of(session).Patient, email=email):
        return rules.email_taken(email)
    return rules.id_taken("patient", patient_id)
