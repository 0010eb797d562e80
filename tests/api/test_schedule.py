"""/slots and /schedule over HTTP: the command line's `-o json`, its errors as statuses, the response models."""

from __future__ import annotations

import json

import pytest

from encounter_cli import services
from encounter_cli.api.routes import schedule as routes
from encounter_cli.db import Database
from encounter_cli.working_hours import NO_HOURS, parse_hours
from tests.api.conftest import error_of
from tests.helpers import CLINIC_ZONE, settings_for

MONDAY = "2031-01-06"  # the test clinic is in America/New_York


@pytest.fixture
def clinic(api, db_url):
    """Doctors 1 (hours, Cardiology), 2 (no hours, Cardiology), 3 (hours, inactive); patient 1 booked with 1."""
    from zoneinfo import ZoneInfo

    api("POST", "/patients", 201, json={"first_name": "Ada", "last_name": "<b>Lovelace</b>", "email": "a@example.org"})
    for name, active in (("Gregory House", True), ("No Hours", True), ("Old Timer", False)):
        api("POST", "/doctors", 201, json={"full_name": name, "specialization": "Cardiology", "is_active": active})
    database = Database(settings_for(db_url))
    zone = ZoneInfo(CLINIC_ZONE)
    week = parse_hours(["mon-fri 09:00-10:00"])
    for doctor_id in (1, 3):
        database.run(lambda s, d=doctor_id: services.set_hours(s, d, week, NO_HOURS, zone))
    database.dispose()
    start = f"{MONDAY}T09:15:00-05:00"
    api(
        "POST",
        "/appointments",
        201,
        json={"patient_id": 1, "doctor_id": 1, "start_time": start, "duration_minutes": 30},
    )
    return api


def test_slots_are_the_json_of_the_command_line(clinic, cli):
    found = clinic("GET", f"/slots?doctor_id=1&duration=15&date={MONDAY}")
    assert found.headers["Cache-Control"] == "no-store"
    assert [slot["start_time"] for slot in found.json()] == [f"{MONDAY}T09:00:00-05:00", f"{MONDAY}T09:45:00-05:00"]
    command = cli("appointment", "slots", "--doctor", "1", "--duration", "15", "--date", MONDAY, "-o", "json")
    assert found.json() == json.loads(command.stdout)
    assert set(routes.FreeSlot.model_fields) == set(found.json()[0])


def test_slots_by_specialization_over_a_range_with_a_limit(clinic):
    query = {"specialization": "cardio", "duration": "30", "from": f"{MONDAY}T09:00:00-05:00",
             "to": "2031-01-08T00:00:00-05:00", "step": "30", "limit": "2"}  # fmt: skip
    found = clinic("GET", "/slots", params=query).json()
    assert [(slot["doctor_id"], slot["start_time"]) for slot in found] == [
        (1, "2031-01-07T09:00:00-05:00"), (1, "2031-01-07T09:30:00-05:00")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("doctor_id=2&duration=30", 400, "doctor_id"),  # no hours
        ("doctor_id=1&specialization=cardio&duration=30", 400, "doctor_id"),
        ("duration=30", 400, "doctor_id"),
        ("doctor_id=1", 400, "duration"),
        ("doctor_id=1&duration=10", 400, "duration"),
        ("doctor_id=1&duration=30&step=1", 400, "step"),
        (f"doctor_id=1&duration=30&date={MONDAY}&from=2031-01-06T00:00:00Z", 400, "date"),
        ("doctor_id=1&duration=30&from=2031-01-06T09:00", 400, "from"),
        ("doctor_id=1&duration=30&from=2031-01-06T00:00:00Z&to=2031-03-06T00:00:00Z", 400, "to"),
        ("doctor_id=1&duration=30&doctor_id=1", 400, "doctor_id"),  # given twice
        ("doctor_id=9&duration=30", 404, "doctor_id"),
        ("specialization=neuro&duration=30", 404, "specialization"),
        ("doctor_id=3&duration=30", 409, "doctor_id"),
    ],
)
def test_slot_errors(clinic, query, status, field):
    assert error_of(clinic("GET", f"/slots?{query}", status))["details"]["field"] == field


def test_the_schedule_is_the_json_of_the_command_line(clinic, cli):
    day = clinic("GET", f"/schedule?date={MONDAY}")
    assert day.json() == json.loads(cli("schedule", "--date", MONDAY, "-o", "json").stdout)
    assert [doctor["id"] for doctor in day.json()["doctors"]] == [1]
    assert day.json()["doctors"][0]["appointments"][0]["patient_name"] == "Ada <b>Lovelace</b>"
    routes.DaySchedule.model_validate(day.json())  # the documented model describes it
    chosen = clinic("GET", f"/schedule?date={MONDAY}&doctor_id=3&doctor_id=2").json()
    assert [doctor["id"] for doctor in chosen["doctors"]] == [3, 2]
    assert [d["id"] for d in clinic("GET", f"/schedule?date={MONDAY}&specialization=CARDIO").json()["doctors"]] == [
        1,
        2,
    ]
    assert clinic("GET", "/schedule").json()["zone"] == CLINIC_ZONE  # today


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("doctor_id=9", 404, "doctor_id"),
        ("specialization=neuro", 404, "specialization"),
        ("doctor_id=1&specialization=cardio", 400, "doctor_id"),
        ("date=06/01/2031", 400, "date"),
        ("doctor_id=0", 400, "doctor_id"),
    ],
)
def test_schedule_errors(clinic, query, status, field):
    assert error_of(clinic("GET", f"/schedule?{query}", status))["details"]["field"].startswith(field)  # doctor_id.0


def test_the_routes_need_a_token(anonymous):
    assert anonymous.get("/slots?doctor_id=1&duration=30").status_code == 401
    assert anonymous.get("/schedule").status_code == 401
