"""The audit trail through the HTTP API: every write route leaves exactly its entry, by the token's name, source
`api`; a failed one leaves none; GET /audit filters as `encounter audit list` does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from encounter_cli.api.app import create_app
from encounter_cli.db import Database
from encounter_cli.services.common import stamp
from tests.api.conftest import error_of
from tests.helpers import settings_for

TOKEN_NAME = "test-suite"  # the `token` fixture's
START = "2031-01-06T09:00:00+00:00"
BOOKING = {"patient_id": 1, "doctor_id": 1, "start_time": START, "duration_minutes": 30}
TIME_OFF = {"start_time": "2031-01-07T09:00:00+00:00", "end_time": "2031-01-07T12:00:00+00:00"}
OFF = {"doctor_id": 1, **TIME_OFF, "reason": None}

# Every write route, in an order that works on one database, with the one entry it must leave:
# (action, entity, entity id, changes).
STEPS: list[tuple[str, str, dict[str, Any] | None, tuple[str, str, int, dict[str, Any]]]] = [
    ("POST", "/patients", {"first_name": "Ada", "last_name": "L", "email": "ada@example.org"},
     ("patient.add", "patient", 1, {
         "first_name": [None, "Ada"], "last_name": [None, "L"], "email": [None, "ada@example.org"],
         "phone": [None, None], "date_of_birth": [None, None]})),
    ("PATCH", "/patients/1", {"last_name": "Lovelace"},
     ("patient.update", "patient", 1, {"last_name": ["L", "Lovelace"]})),
    ("POST", "/doctors", {"full_name": "Dr A", "specialization": "General"},
     ("doctor.add", "doctor", 1, {"full_name": [None, "Dr A"], "specialization": [None, "General"],
                                  "is_active": [None, True]})),
    ("POST", "/doctors/1/deactivate", None, ("doctor.deactivate", "doctor", 1, {"is_active": [True, False]})),
    ("POST", "/doctors/1/activate", None, ("doctor.activate", "doctor", 1, {"is_active": [False, True]})),
    ("PUT", "/doctors/1/hours", {"hours": ["mon-fri 09:00-17:00"]},
     ("doctor.hours", "doctor", 1, {"hours": [None, ["mon-fri 09:00-17:00"]]})),
    ("DELETE", "/doctors/1/hours", None, ("doctor.hours", "doctor", 1, {"hours": [["mon-fri 09:00-17:00"], None]})),
    ("POST", "/doctors/1/time-off", TIME_OFF,
     ("doctor.time_off.add", "time_off", 1, {name: [None, value] for name, value in OFF.items()})),
    ("DELETE", "/time-off/1", None,
     ("doctor.time_off.remove", "time_off", 1, {name: [value, None] for name, value in OFF.items()})),
    ("POST", "/appointments", BOOKING,
     ("appointment.book", "appointment", 1, {
         "patient_id": [None, 1], "doctor_id": [None, 1], "start_time": [None, START],
         "end_time": [None, "2031-01-06T09:30:00+00:00"], "duration_minutes": [None, 30], "status": [None, "booked"],
         "reason": [None, None], "cancelled_at": [None, None], "cancellation_reason": [None, None]})),
    ("POST", "/appointments/1/reschedule", {"start_time": "2031-01-06T10:00:00+00:00", "duration_minutes": 45},
     ("appointment.reschedule", "appointment", 1, {
         "start_time": [START, "2031-01-06T10:00:00+00:00"],
         "end_time": ["2031-01-06T09:30:00+00:00", "2031-01-06T10:45:00+00:00"], "duration_minutes": [30, 45]})),
    ("POST", "/appointments/1/cancel", {"reason": "ill"},
     ("appointment.cancel", "appointment", 1,
      {"status": ["booked", "cancelled"], "cancellation_reason": [None, "ill"]})),
    ("POST", "/appointments/2/complete", None,
     ("appointment.complete", "appointment", 2, {"status": ["booked", "completed"]})),
    ("POST", "/appointments/3/no-show", None,
     ("appointment.no_show", "appointment", 3, {"status": ["booked", "no_show"]})),
]  # fmt: skip


def audit_entries(api, query: str = "") -> list[dict[str, Any]]:
    return [{**entry, "changes": json.loads(entry["changes"])} for entry in api("GET", f"/audit{query}").json()]


def _book_in_the_past(database: Database) -> None:
    """Appointments 2 and 3, yesterday, written behind the services' back (no route books the past)."""
    start = stamp() - timedelta(days=1)
    values = {"doctor_id": 1, "patient_id": 1, "duration_minutes": 30, "status": "booked"}
    with database.session(write=True) as session:
        for _ in (2, 3):
            session.add(database.models.Appointment(
                start_time=start, end_time=start + timedelta(minutes=30), created_at=start, updated_at=start, **values
            ))  # fmt: skip


def test_the_steps_enumerate_every_write_route(anonymous):
    """A new write route must be listed in STEPS with its expected entry."""
    schema = anonymous.get("/openapi.json").json()
    writes = {(method.upper(), re.sub(r"\{\w+_id\}", "N", path)) for path, item in schema["paths"].items()
              for method in item if method != "get"}  # fmt: skip
    assert writes == {(method, re.sub(r"/[0-9]+", "/N", path)) for method, path, _, _ in STEPS}


def test_every_write_route_leaves_exactly_its_entry(api, database):
    seen = len(audit_entries(api))  # the token's own entry, made by the fixture
    for method, path, body, (action, entity, entity_id, changes) in STEPS:
        if path == "/appointments/2/complete":
            _book_in_the_past(database)
        created = path in ("/patients", "/doctors", "/appointments", "/doctors/1/time-off")
        api(method, path, 201 if created else 200, json=body)
        new = audit_entries(api, f"?offset={seen}")
        expected = {"actor": TOKEN_NAME, "source": "api", "action": action, "entity": entity, "entity_id": entity_id}
        assert [{key: entry[key] for key in expected} for entry in new] == [expected], path
        got = new[0]["changes"]
        if action == "appointment.cancel":  # the moment of cancelling: checked for presence only
            assert got.pop("cancelled_at")[0] is None
        assert got == changes, path
        seen += 1


def test_a_failed_write_leaves_no_entry(api):
    api("POST", "/patients", 201, json={"first_name": "A", "last_name": "B", "email": "a@example.org"})
    api("POST", "/doctors", 201, json={"full_name": "D", "specialization": "E"})
    api("POST", "/appointments", 201, json=BOOKING)
    before = audit_entries(api)
    clash = api("POST", "/appointments", 409, json={**BOOKING, "start_time": "2031-01-06T09:15:00+00:00"})
    assert error_of(clash)["type"] == "conflict"
    api("POST", "/patients", 409, json={"first_name": "A", "last_name": "B", "email": "A@example.org"})
    assert audit_entries(api) == before


def test_get_audit_filters_like_the_command(api):
    api("POST", "/patients", 201, json={"first_name": "A", "last_name": "B", "email": "a@example.org"})
    api("PATCH", "/patients/1", json={"phone": "5550100"})
    [update] = audit_entries(api, "?entity=patient&id=1&action=patient.update")
    assert (update["actor"], update["changes"]) == (TOKEN_NAME, {"phone": [None, "5550100"]})
    assert [e["action"] for e in audit_entries(api, f"?actor={TOKEN_NAME}&limit=1&offset=1")] == ["patient.update"]
    assert api("GET", "/audit?actor=nobody").json() == []
    assert api("GET", "/audit?limit=1").headers["X-Total-Count"] == "3"  # the token's entry too
    reversed_range = api("GET", "/audit?from=2031-01-02T00:00:00Z&to=2031-01-01T00:00:00Z", 400)
    assert error_of(reversed_range)["details"]["field"] == "from"
    assert error_of(api("GET", "/audit?from=2031-01-01T00:00", 400))["details"]["field"] == "from"  # naive
    assert api("DELETE", "/audit", 405).status_code == 405  # nothing edits or deletes entries


def test_with_no_auth_the_actor_is_no_auth(db_url):
    app = create_app(settings_for(db_url), open_access=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.post("/patients", json={"first_name": "A", "last_name": "B", "email": "a@example.org"})
        [entry] = client.get("/audit").json()
    app.state.clinic.database.dispose()
    assert (entry["actor"], entry["source"], entry["action"]) == ("no-auth", "api", "patient.add")
