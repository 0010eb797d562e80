"""`-o fhir` through CliRunner, on SQLite and MariaDB: every line a FHIR R4 resource that the R4B models of
fhir.resources accept, and the mapping of SPEC §11 value by value.

The models check structure and types but not every rule (an instant without seconds or offset passes, and
codes are not checked against their value sets), so the tests assert those values exactly too.
The clinic zone is America/New_York: -05:00 in winter, -04:00 in summer.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from encounter_cli.db import Database
from encounter_cli.services.common import stamp
from tests.helpers import json_out, settings_for

MODELS = {model.__name__: model for model in (Patient, Practitioner, PractitionerRole, Appointment)}
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")  # seconds and an offset, as FHIR requires


def resources(result) -> list[dict]:
    """The NDJSON lines of `result`, each validated by its R4B model."""
    assert result.stdout.endswith("\n")
    found = [json.loads(line) for line in result.stdout.splitlines()]
    for resource in found:
        MODELS[resource["resourceType"]].model_validate(resource)
        assert INSTANT.fullmatch(resource["meta"]["lastUpdated"])
    return found


def without_meta(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if key != "meta"}


# --- patients -------------------------------------------------------------------------------------------------------


@pytest.fixture
def patients(cli):
    cli("patient", "add", "--first-name", "Zoë", "--last-name", "Ødegård-Nguyễn", "--email", "ZOE@example.org",
        "--phone", "+1 (555) 010-0199", "--dob", "1990-02-03")  # fmt: skip
    cli("patient", "add", "--first-name", "李", "--last-name", "小龙", "--email", "li@example.org")
    return cli


def test_patients_map_name_telecom_and_birth_date(patients):
    listed = resources(patients("patient", "list", "-o", "fhir"))
    assert [without_meta(resource) for resource in listed] == [
        {
            "resourceType": "Patient",
            "id": "1",
            "name": [{"family": "Ødegård-Nguyễn", "given": ["Zoë"]}],
            "telecom": [{"system": "email", "value": "zoe@example.org"}, {"system": "phone",
                                                                            "value": "+1 (555) 010-0199"}],
            "birthDate": "1990-02-03",
        },
        # No phone and no date of birth: left out, not null.
        {"resourceType": "Patient", "id": "2", "name": [{"family": "小龙", "given": ["李"]}],
         "telecom": [{"system": "email", "value": "li@example.org"}]},
    ]  # fmt: skip
    stored = json_out(patients("patient", "show", "1", "-o", "json"))
    assert listed[0]["meta"] == {"lastUpdated": stored["updated_at"]}
    assert resources(patients("patient", "show", "2", "-o", "fhir")) == listed[1:]


def test_patient_list_filters_and_pages_as_in_other_formats(patients):
    assert [r["id"] for r in resources(patients("patient", "list", "--search", "小龙", "-o", "fhir"))] == ["2"]
    assert [r["id"] for r in resources(patients("patient", "list", "--limit", "1", "--offset", "1", "-o", "fhir"))] == [
        "2"
    ]
    assert patients("patient", "list", "--search", "nobody", "-o", "fhir").stdout == ""


# --- doctors --------------------------------------------------------------------------------------------------------


def test_a_doctor_is_a_practitioner_and_its_role(cli):
    cli("doctor", "add", "--full-name", "Dr Émile Roux", "--specialization", "Cardiologie pédiatrique")
    cli("doctor", "add", "--full-name", "Gregory House", "--specialization", "Diagnostics", "--inactive")
    listed = resources(cli("doctor", "list", "-o", "fhir"))
    assert [without_meta(resource) for resource in listed] == [
        {"resourceType": "Practitioner", "id": "1", "active": True, "name": [{"text": "Dr Émile Roux"}]},
        {"resourceType": "PractitionerRole", "id": "1", "active": True,
         "practitioner": {"reference": "Practitioner/1", "display": "Dr Émile Roux"},
         "specialty": [{"text": "Cardiologie pédiatrique"}]},
        {"resourceType": "Practitioner", "id": "2", "active": False, "name": [{"text": "Gregory House"}]},
        {"resourceType": "PractitionerRole", "id": "2", "active": False,
         "practitioner": {"reference": "Practitioner/2", "display": "Gregory House"},
         "specialty": [{"text": "Diagnostics"}]},
    ]  # fmt: skip
    assert resources(cli("doctor", "show", "2", "-o", "fhir")) == listed[2:]
    assert [r["id"] for r in resources(cli("doctor", "list", "--inactive", "-o", "fhir"))] == ["2", "2"]


# --- appointments ---------------------------------------------------------------------------------------------------


@pytest.fixture
def booked(cli):
    """Appointments 1-3 in the future; 4 and 5 started yesterday (written behind the services' back: no
    command books the past), then marked completed and no-show."""
    cli("patient", "add", "--first-name", "Zoë", "--last-name", "Ødegård", "--email", "z@example.org")
    cli("patient", "add", "--first-name", "Al", "--last-name", "B", "--email", "al@example.org")
    cli("doctor", "add", "--full-name", "Dr Émile Roux", "--specialization", "General")
    book = ("appointment", "book", "--patient", "1", "--doctor", "1")
    cli(*book, "--start", "2031-01-06T09:00", "--duration", "45", "--reason", "Contrôle annuel ✓")
    cli(*book, "--start", "2031-07-07T14:30", "--duration", "30")
    cli("appointment", "book", "--patient", "2", "--doctor", "1", "--start", "2031-07-08T08:00", "--duration", "180")
    cli("appointment", "cancel", "2", "--reason", "patient called in sick")
    cli("appointment", "cancel", "3")
    return cli


def add_past(db_url: str) -> None:
    database = Database(settings_for(db_url))
    start = stamp() - timedelta(days=1)
    values = {"doctor_id": 1, "duration_minutes": 15, "status": "booked", "created_at": start, "updated_at": start}
    with database.session(write=True) as session:
        for patient in (1, 2):
            end = start + timedelta(minutes=15)
            session.add(database.models.Appointment(patient_id=patient, start_time=start, end_time=end, **values))
    database.dispose()


def participants(patient: int, patient_name: str) -> list[dict]:
    return [
        {"actor": {"reference": f"Patient/{patient}", "display": patient_name}, "status": "accepted"},
        {"actor": {"reference": "Practitioner/1", "display": "Dr Émile Roux"}, "status": "accepted"},
    ]


def test_appointments_map_status_times_and_participants(booked, db_url):
    add_past(db_url)
    booked("appointment", "complete", "4")
    booked("appointment", "no-show", "5")
    listed = resources(booked("appointment", "list", "--from", "2020-01-01", "-o", "fhir"))
    by_id = {resource["id"]: resource for resource in listed}
    assert [r["id"] for r in listed] == ["4", "5", "1", "2", "3"]  # start order, as every format lists them
    assert [(r["id"], r["status"]) for r in listed] == [
        ("4", "fulfilled"), ("5", "noshow"), ("1", "booked"), ("2", "cancelled"), ("3", "cancelled"),
    ]  # fmt: skip
    stored = {
        item["id"]: item for item in json_out(booked("appointment", "list", "--from", "2020-01-01", "-o", "json"))
    }
    for resource in listed:
        item = stored[int(resource["id"])]
        assert resource["created"] == item["created_at"] and resource["meta"]["lastUpdated"] == item["updated_at"]
        assert INSTANT.fullmatch(resource["start"]) and INSTANT.fullmatch(resource["end"])
    assert {key: value for key, value in without_meta(by_id["1"]).items() if key != "created"} == {
        "resourceType": "Appointment",
        "id": "1",
        "status": "booked",
        "description": "Contrôle annuel ✓",
        "start": "2031-01-06T09:00:00-05:00",
        "end": "2031-01-06T09:45:00-05:00",
        "minutesDuration": 45,
        "participant": participants(1, "Zoë Ødegård"),
    }
    # Summer time: the offset of that day; a cancellation's reason when it has one.
    assert (by_id["2"]["start"], by_id["2"]["end"]) == ("2031-07-07T14:30:00-04:00", "2031-07-07T15:00:00-04:00")
    assert by_id["2"]["cancelationReason"] == {"text": "patient called in sick"} and "description" not in by_id["2"]
    assert "cancelationReason" not in by_id["3"] and by_id["3"]["minutesDuration"] == 180
    assert by_id["3"]["participant"] == participants(2, "Al B")
    assert by_id["4"]["minutesDuration"] == 15 and by_id["5"]["participant"] == participants(2, "Al B")
    for appointment_id in ("2", "4"):
        shown = resources(booked("appointment", "show", appointment_id, "-o", "fhir"))
        assert shown == [by_id[appointment_id]]


def test_appointment_list_filters_apply(booked):
    found = resources(booked("appointment", "list", "--status", "cancelled", "--patient", "1", "-o", "fhir"))
    assert [(r["id"], r["status"]) for r in found] == [("2", "cancelled")]
    assert [r["id"] for r in resources(booked("appointment", "list", "-o", "fhir"))] == ["1"]  # the default: booked


# --- where fhir is not a format -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("db", "info"),
        ("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org"),
        ("appointment", "slots", "--doctor", "1", "--date", "2031-01-06"),
        ("patient", "import", "patients.csv"),
    ],
)
def test_fhir_elsewhere_is_a_usage_error(cli, command):
    result = cli(*command, "-o", "fhir", expect=2)
    assert "fhir is only for list and show of patients, doctors and appointments" in result.stderr
    assert result.stdout == ""
    assert json_out(cli("patient", "list", "-o", "json")) == []  # nothing was added


def test_fhir_from_the_environment_leaves_other_commands_their_table(cli):
    fhir = {"ENCOUNTER_OUTPUT": "fhir"}
    added = cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org", env=fhir)
    assert added.stdout.startswith("Patient 1")
    assert resources(cli("patient", "list", env=fhir))[0]["resourceType"] == "Patient"
    assert json_out(cli("patient", "show", "1", "-o", "json", env=fhir))["id"] == 1  # -o wins over the variable


def test_help_lists_fhir_only_where_it_applies(run_cli):
    assert "fhir" in run_cli("patient", "list", "--help").stdout
    assert "fhir" not in run_cli("patient", "add", "--help").stdout
