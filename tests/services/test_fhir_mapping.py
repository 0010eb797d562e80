"""encounter_cli.fhir on its own: values a legacy database may hold, which the commands cannot store."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitionerrole import PractitionerRole

from encounter_cli.fhir import resources

ZONE = ZoneInfo("America/New_York")
MOMENT = datetime(2031, 1, 6, 14, 0, 0, 123456, tzinfo=timezone.utc)  # a legacy time with microseconds


def test_blank_text_is_left_out_rather_than_sent_empty():
    item = {"id": 3, "first_name": " ", "last_name": "Doe", "email": "", "phone": "  ", "date_of_birth": None,
            "created_at": MOMENT, "updated_at": None}  # fmt: skip
    (patient,) = resources("Patient", item, ZONE)
    assert patient == {"resourceType": "Patient", "id": "3", "name": [{"family": "Doe"}]}
    Patient.model_validate(patient)
    doctor = {"id": 4, "full_name": "Dr X", "specialization": "", "is_active": 1, "updated_at": MOMENT}
    role = resources("Doctor", doctor, ZONE)[1]
    assert "specialty" not in role and role["active"] is True
    assert role["meta"] == {"lastUpdated": "2031-01-06T09:00:00-05:00"}  # whole seconds, clinic offset
    PractitionerRole.model_validate(role)


def test_cancelled_with_a_blank_reason_and_names_missing():
    item = {"id": 9, "patient_id": 1, "doctor_id": 2, "start_time": MOMENT, "end_time": MOMENT, "duration_minutes": 15,
            "status": "cancelled", "reason": "", "cancelled_at": MOMENT, "cancellation_reason": " ",
            "created_at": MOMENT, "updated_at": MOMENT, "patient_name": None, "doctor_name": None}  # fmt: skip
    (appointment,) = resources("Appointment", item, ZONE)
    assert "cancelationReason" not in appointment and "description" not in appointment
    assert appointment["participant"][0] == {"actor": {"reference": "Patient/1"}, "status": "accepted"}
    Appointment.model_validate(appointment)
    assert resources("Patient", {**item, "first_name": "A", "last_name": "B", "email": "a@b.org", "phone": None,
                                 "date_of_birth": date(2000, 1, 2)}, ZONE)[0]["birthDate"] == "2000-01-02"  # fmt: skip
