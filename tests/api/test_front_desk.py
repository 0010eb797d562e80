"""The front desk over HTTP: hours, time off, rule 9, reschedule and outcomes, as the command line has them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from encounter_cli.api.app import create_app
from encounter_cli.working_hours import parse_hours
from tests.api.conftest import error_of, requester
from tests.helpers import settings_for

MONDAY = "2031-03-03T{}:00-05:00"  # the test clinic is in America/New_York


@pytest.fixture
def desk(api):
    for n in (1, 2):
        api("POST", "/patients", 201, json={"first_name": f"P{n}", "last_name": "T", "email": f"p{n}@example.org"})
        api("POST", "/doctors", 201, json={"full_name": f"Dr {n}", "specialization": "General"})
    return api


def book(api, hour, expect=201, query="", **fields):
    body = {"patient_id": 1, "doctor_id": 1, "start_time": MONDAY.format(hour), "duration_minutes": 30, **fields}
    return api("POST", f"/appointments{query}", expect, json=body)


def test_hours_are_read_replaced_and_cleared(desk):
    assert desk("GET", "/doctors/1/hours").json()["source"] == "none"
    book(desk, "08:00")
    changed = desk("PUT", "/doctors/1/hours", json={"hours": ["mon-fri 09:00-12:30,13:30-17:00"]}).json()
    assert changed["hours"] == ["mon-fri 09:00-12:30,13:30-17:00"] and changed["outside_hours"] == 1
    assert changed["days"]["mon"] == ["09:00-12:30", "13:30-17:00"] and changed["days"]["sun"] == []
    shown = desk("GET", "/doctors/1/hours")
    assert shown.json() == {key: value for key, value in changed.items() if key != "outside_hours"}
    assert shown.headers["Cache-Control"] == "no-store"
    error = error_of(book(desk, "12:15", 409, patient_id=2))
    assert "outside working hours" in error["message"]
    assert desk("DELETE", "/doctors/1/hours").json()["source"] == "none"
    book(desk, "12:15", patient_id=2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hours": ["mon-fri 9-17"]}, "hours"),
        ({"hours": []}, "hours"),
        ({"hours": [""]}, "hours"),  # nothing given is no clear: that is DELETE
        ({"hours": "mon 09:00-10:00"}, "hours"),
        ({"hours": ["mon 09:00-10:00"], "extra": 1}, "extra"),
    ],
)
def test_bad_hours_are_400(desk, body, field):
    assert error_of(desk("PUT", "/doctors/1/hours", 400, json=body))["details"]["field"] == field


def test_unknown_doctors_hours_are_404(desk):
    desk("GET", "/doctors/9/hours", 404)
    desk("PUT", "/doctors/9/hours", 404, json={"hours": ["mon 09:00-10:00"]})


def test_clinic_hours_reach_the_api(db_url, token):
    settings = replace(settings_for(db_url), hours=parse_hours(["mon-fri 09:00-17:00"]))
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = requester(client, {"Authorization": f"Bearer {token}"})
        api("POST", "/patients", 201, json={"first_name": "A", "last_name": "B", "email": "a@example.org"})
        api("POST", "/doctors", 201, json={"full_name": "Dr", "specialization": "General"})
        assert api("GET", "/doctors/1/hours").json()["source"] == "clinic"
        book(api, "08:00", 409)
        book(api, "09:00")
    app.state.clinic.database.dispose()


def test_time_off_is_added_listed_and_removed(desk):
    book(desk, "10:00")
    body = {"start_time": MONDAY.format("00:00"), "end_time": "2031-03-04T00:00:00-05:00", "reason": "training"}
    added = desk("POST", "/doctors/1/time-off", 201, json=body)
    assert added.json()["reason"] == "training" and added.headers["X-Booked-Inside"] == "1"
    assert "is off from" in error_of(book(desk, "11:00", 409, patient_id=2))["message"]
    listed = desk("GET", "/doctors/1/time-off", params={"from": "2031-03-01T00:00:00Z"})
    assert [t["id"] for t in listed.json()] == [1] and listed.headers["X-Total-Count"] == "1"
    assert desk("DELETE", "/time-off/1").json()["id"] == 1
    desk("DELETE", "/time-off/1", 404)
    book(desk, "11:00", patient_id=2)


def test_time_off_mistakes(desk):
    body = {"start_time": MONDAY.format("10:00"), "end_time": MONDAY.format("09:00")}
    assert error_of(desk("POST", "/doctors/1/time-off", 400, json=body))["details"]["field"] == "end_time"
    naive = {"start_time": "2031-03-03T10:00:00", "end_time": MONDAY.format("11:00")}
    assert error_of(desk("POST", "/doctors/1/time-off", 400, json=naive))["details"]["field"] == "start_time"
    desk(
        "POST",
        "/doctors/9/time-off",
        404,
        json={"start_time": MONDAY.format("10:00"), "end_time": MONDAY.format("11:00")},
    )
    desk("GET", "/doctors/1/time-off", 400, params={"from": "2031-03-01T00:00:00"})


def test_rule_9_and_its_waiver(desk):
    book(desk, "10:00")
    error = error_of(book(desk, "10:15", 409, doctor_id=2))
    assert error["details"] == {"field": "start_time", "patient_id": 1, "appointment_id": 1}
    assert book(desk, "10:15", query="?allow_patient_overlap=true", doctor_id=2).json()["id"] == 2


def test_reschedule_and_outcomes(desk):
    book(desk, "10:00")
    book(desk, "11:00", patient_id=2)
    moved = desk("POST", "/appointments/1/reschedule", json={"start_time": MONDAY.format("10:15")}).json()
    assert (moved["id"], moved["start_time"]) == (1, MONDAY.format("10:15"))
    clash = desk("POST", "/appointments/1/reschedule", 409, json={"start_time": MONDAY.format("10:45")})
    assert error_of(clash)["details"]["appointment_id"] == 2
    desk("POST", "/appointments/1/reschedule", 404, json={"start_time": MONDAY.format("10:00"), "doctor_id": 9})
    desk("POST", "/appointments/1/reschedule", 400, json={"start_time": MONDAY.format("10:00"), "duration_minutes": 5})
    desk("POST", "/appointments/1/reschedule", 400, json={})
    moved = desk("POST", "/appointments/1/reschedule", json={"start_time": MONDAY.format("11:00"), "doctor_id": 2})
    assert moved.json()["doctor_id"] == 2
    assert "has not started yet" in error_of(desk("POST", "/appointments/1/complete", 409))["message"]
    desk("POST", "/appointments/1/no-show", 409)
    desk("POST", "/appointments/9/complete", 404)
