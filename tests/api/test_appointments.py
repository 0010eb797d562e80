"""/appointments over HTTP: the booking rules, filters and cancelling, as the command line has them."""

from __future__ import annotations

import pytest

from tests.api.conftest import error_of
from tests.helpers import CLINIC_ZONE

START = "2031-01-06T09:00:00-05:00"  # a Monday; the test clinic is in America/New_York


@pytest.fixture
def clinic(api):
    for n in (1, 2):
        api("POST", "/patients", 201, json={"first_name": f"P{n}", "last_name": "T", "email": f"p{n}@example.org"})
        api("POST", "/doctors", 201, json={"full_name": f"Dr {n}", "specialization": "General"})
    return api


def book(api, start=START, expect=201, **fields):
    body = {"patient_id": 1, "doctor_id": 1, "start_time": start, "duration_minutes": 30, **fields}
    return api("POST", "/appointments", expect, json=body)


def test_booking_returns_times_with_the_clinic_offset(clinic):
    appointment = book(clinic, "2031-01-06T14:00:00Z", reason="check-up").json()
    assert (appointment["start_time"], appointment["end_time"]) == (
        "2031-01-06T09:00:00-05:00",
        "2031-01-06T09:30:00-05:00",
    )
    assert (appointment["status"], appointment["reason"], appointment["cancelled_at"]) == ("booked", "check-up", None)


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"start_time": "2031-01-06T09:00:00"}, "start_time", "must carry a UTC offset"),
        ({"start_time": "2001-01-01T09:00:00Z"}, "start_time", "must be in the future"),
        ({"start_time": "2031-01-06T09:00:30Z"}, "start_time", "must be a whole minute"),
        ({"start_time": "next tuesday"}, "start_time", "is not an ISO 8601 time"),
        ({"start_time": 1924992000}, "start_time", "is not an ISO 8601 time"),
        ({"start_time": "1924992000"}, "start_time", "is not an ISO 8601 time"),
        ({"start_time": "2031-01-06T14:00:00+0100"}, "start_time", "is not an ISO 8601 time"),
        ({"start_time": "2031-01-06T14:00:00.0000001Z"}, "start_time", "is not an ISO 8601 time"),
        ({"start_time": "2031-01-06T14:00:00,000Z"}, "start_time", "is not an ISO 8601 time"),
        ({"duration_minutes": "30"}, "duration_minutes", "valid integer"),
        ({"duration_minutes": 30.0}, "duration_minutes", "valid integer"),
        ({"patient_id": True}, "patient_id", "valid integer"),
        ({"duration_minutes": 10}, "duration_minutes", "must be between 15 and 180 minutes"),
        ({"duration_minutes": 181}, "duration_minutes", "must be between 15 and 180 minutes"),
        ({"reason": "x" * 501}, "reason", "must be at most 500 characters"),
    ],
)
def test_invalid_bookings_are_400(clinic, fields, field, rule):
    error = error_of(book(clinic, expect=400, **fields))
    assert (error["type"], error["details"]["field"]) == ("invalid", field) and rule in error["message"]


def test_unknown_patient_or_doctor_is_404_naming_which(clinic):
    assert error_of(book(clinic, patient_id=9, expect=404))["details"]["field"] == "patient_id"
    assert error_of(book(clinic, doctor_id=9, expect=404))["details"]["field"] == "doctor_id"


def test_a_taken_slot_and_an_inactive_doctor_are_409(clinic):
    first = book(clinic).json()
    error = error_of(book(clinic, "2031-01-06T09:15:00-05:00", patient_id=2, expect=409))
    assert error["details"]["appointment_id"] == first["id"]
    book(clinic, "2031-01-06T09:30:00-05:00", patient_id=2)  # back to back is fine
    clinic("POST", "/doctors/2/deactivate")
    assert "inactive" in error_of(book(clinic, doctor_id=2, expect=409))["message"]


def test_list_filters_by_clinic_day_doctor_status_and_range(clinic):
    book(clinic, "2031-01-06T09:00:00-05:00")
    book(clinic, "2031-01-06T23:30:00-05:00", doctor_id=2)  # 04:30 UTC the next day: still the 6th in the clinic
    book(clinic, "2031-01-07T09:00:00-05:00")
    day = clinic("GET", "/appointments?date=2031-01-06")
    assert [a["id"] for a in day.json()] == [1, 2] and day.headers["X-Total-Count"] == "2"
    assert [a["id"] for a in clinic("GET", "/appointments?date=2031-01-06&doctor_id=2").json()] == [2]
    ranged = clinic(
        "GET", "/appointments", params={"from": "2031-01-06T10:00:00-05:00", "to": "2031-01-07T09:00:00-05:00"}
    )
    assert [a["id"] for a in ranged.json()] == [2]  # `to` is exclusive
    clinic("POST", "/appointments/1/cancel")
    assert [a["id"] for a in clinic("GET", "/appointments?status=cancelled").json()] == [1]
    assert [a["id"] for a in clinic("GET", "/appointments").json()] == [2, 3]  # default: booked, from today


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2031-01-06T09:00", "from"),
        ("to=2031-01-06", "to"),
        ("date=06/01/2031", "date"),
        ("status=done", "status"),
        ("doctor_id=0", "doctor_id"),
        ("from=2031-01-07T00:00Z&to=2031-01-06T00:00Z", "from"),
    ],
)
def test_invalid_filters_are_400(clinic, query, field):
    assert error_of(clinic("GET", f"/appointments?{query}", 400))["details"]["field"] == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/appointments?from=today", "from"),
        ("/appointments?to=tomorrow%2009:30", "to"),
        ("/slots?doctor_id=1&duration=30&from=tomorrow%2009:00&to=%2B3d", "from"),
        ("/doctors/1/time-off?from=-1w", "from"),
    ],
)
def test_the_api_takes_no_relative_times(clinic, path, field):
    """Times are RFC 3339 with an offset: an HTTP client's wall clock is unknown."""
    assert error_of(clinic("GET", path, 400))["details"]["field"] == field


def test_a_booking_body_takes_no_relative_day(clinic):
    assert error_of(book(clinic, "tomorrow 09:30", expect=400))["message"].endswith("is not an ISO 8601 time")


def test_a_filter_by_an_unknown_doctor_or_patient_is_404(clinic):
    assert error_of(clinic("GET", "/appointments?doctor_id=9", 404))["details"]["field"] == "doctor_id"
    assert error_of(clinic("GET", "/appointments?patient_id=9", 404))["details"]["field"] == "patient_id"


def test_cancel_frees_the_slot_and_twice_is_409(clinic):
    book(clinic)
    cancelled = clinic("POST", "/appointments/1/cancel", json={"reason": "patient called in sick"}).json()
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "patient called in sick")
    assert cancelled["cancelled_at"] is not None
    assert "only booked appointments" in error_of(clinic("POST", "/appointments/1/cancel", 409))["message"]
    book(clinic, patient_id=2)  # the slot is free again
    assert error_of(clinic("POST", "/appointments/9/cancel", 404))["type"] == "not_found"
    assert error_of(clinic("POST", "/appointments/2/cancel", 400, json={"reason": 5}))["details"]["field"] == "reason"


def test_show_is_the_record_of_the_command_line(clinic, cli):
    import json

    booked = book(clinic, patient_id=2, doctor_id=1).json()
    book(clinic, "2031-01-06T10:00:00-05:00", patient_id=1, doctor_id=2)
    record = json.loads(cli("appointment", "show", "1", "-o", "json").stdout)
    assert clinic("GET", "/appointments/1").json() == record == booked
    assert (record["patient_name"], record["doctor_name"]) == ("P2 T", "Dr 1")
    listed = json.loads(cli("appointment", "list", "-o", "json").stdout)
    assert clinic("GET", "/appointments").json() == listed
    assert [(a["patient_name"], a["doctor_name"]) for a in listed] == [("P2 T", "Dr 1"), ("P1 T", "Dr 2")]
    cancelled = clinic("POST", "/appointments/2/cancel").json()
    assert cancelled == json.loads(cli("appointment", "show", "2", "-o", "json").stdout)
    assert (cancelled["status"], cancelled["patient_name"], cancelled["doctor_name"]) == ("cancelled", "P1 T", "Dr 2")
    assert error_of(clinic("GET", "/appointments/3", 404))["message"] == "appointment 3 does not exist"


def test_names_follow_the_patient_and_doctor_records(clinic):
    book(clinic)
    clinic("PATCH", "/patients/1", json={"first_name": "Ada", "last_name": "Lovelace"})
    shown = clinic("GET", "/appointments/1").json()
    assert (shown["patient_name"], shown["doctor_name"]) == ("Ada Lovelace", "Dr 1")
    assert [a["patient_name"] for a in clinic("GET", "/appointments?limit=1").json()] == ["Ada Lovelace"]


def test_the_date_filter_takes_the_command_lines_day_forms(clinic):
    """`date` is a clinic day: `tomorrow` is the clinic's tomorrow, as on the command line."""
    from zoneinfo import ZoneInfo

    from encounter_cli.clinic_time import clinic_day

    tomorrow = clinic_day("tomorrow", ZoneInfo(CLINIC_ZONE)).isoformat()
    for form in ("tomorrow", "%2B1d"):
        by_word = clinic("GET", f"/appointments?date={form}", 200)
        assert by_word.json() == clinic("GET", f"/appointments?date={tomorrow}", 200).json()
    assert error_of(clinic("GET", "/appointments?date=someday", 400))["details"]["field"] == "date"
