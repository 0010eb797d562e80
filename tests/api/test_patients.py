"""/patients over HTTP: every status a route can give, and the same records as `-o json`."""

from __future__ import annotations

import pytest

from tests.api.conftest import error_of

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.org", "date_of_birth": "1815-12-10"}


def test_add_returns_201_and_the_stored_record(api, cli):
    created = api("POST", "/patients", 201, json=ADA).json()
    assert created["email"] == "ada@example.org" and created["phone"] is None
    assert set(created) == {
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "date_of_birth",
        "created_at",
        "updated_at",
    }
    shown = cli("patient", "show", str(created["id"]), "-o", "json")
    assert api("GET", f"/patients/{created['id']}").json() == __import__("json").loads(shown.stdout)


def test_a_taken_email_is_409_naming_the_field(api):
    api("POST", "/patients", 201, json=ADA)
    error = error_of(api("POST", "/patients", 409, json={**ADA, "email": "ADA@example.org"}))
    assert error["type"] == "conflict" and error["details"]["field"] == "email"
    assert error["message"] == 'email: "ada@example.org" is already used by another patient'


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({**ADA, "email": "bob@"}, "email", "is not a valid email address"),
        ({k: v for k, v in ADA.items() if k != "last_name"}, "last_name", "is required"),
        ({**ADA, "nickname": "Ada"}, "nickname", "is not a known field"),
        ({**ADA, "date_of_birth": "2999-01-01"}, "date_of_birth", "must not be in the future"),
        ({**ADA, "first_name": "   "}, "first_name", "must be 1 to 100 characters"),
        ({**ADA, "phone": "call me"}, "phone", "must be 7 to 20 characters"),
        ({**ADA, "first_name": 7}, "first_name", "input should be a valid string"),
    ],
)
def test_invalid_bodies_are_400_with_the_rule_of_the_command_line(api, body, field, rule):
    error = error_of(api("POST", "/patients", 400, json=body))
    assert error["type"] == "invalid" and error["details"]["field"] == field
    assert rule in error["message"]


@pytest.mark.parametrize(
    ("content", "rule"), [(b"{not json", "is not valid JSON"), (b"[1, 2]", "must be a JSON object"), (b"\xff", "JSON")]
)
def test_a_body_that_is_not_a_json_object_is_400(api, content, rule):
    error = error_of(api("POST", "/patients", 400, content=content, headers={"Content-Type": "application/json"}))
    assert error["details"]["field"] == "body" and rule in error["message"]


def test_list_pages_with_a_total_header_and_searches(api):
    for n in range(5):
        api("POST", "/patients", 201, json={**ADA, "email": f"p{n}@example.org", "last_name": f"Smith{n}"})
    page = api("GET", "/patients", params={"limit": 2, "offset": 1})
    assert [p["last_name"] for p in page.json()] == ["Smith1", "Smith2"]
    assert page.headers["X-Total-Count"] == "5"
    found = api("GET", "/patients", params={"search": "SMITH3"})
    assert [p["email"] for p in found.json()] == ["p3@example.org"] and found.headers["X-Total-Count"] == "1"
    assert api("GET", "/patients", params={"search": "%"}).json() == []  # literal, no wildcards


def test_search_finds_a_full_name_in_either_order_and_a_phone_by_its_digits(api):
    api("POST", "/patients", 201, json={**ADA, "phone": "+1 (555) 123-4567"})
    api("POST", "/patients", 201, json={**ADA, "first_name": "Augusta", "email": "augusta@example.org"})
    for text, expected in [("lovelace ada", [1]), ("Lovelace", [1, 2]), ("555-123", [1]), ("(555) 123", [1])]:
        found = api("GET", "/patients", params={"search": text})
        assert [p["id"] for p in found.json()] == expected
        assert found.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")])
def test_out_of_range_paging_is_400_not_422(api, query, field):
    error = error_of(api("GET", f"/patients?{query}", 400))
    assert error["type"] == "invalid" and error["details"]["field"] == field


def test_the_default_page_is_100_rows_and_1000_is_allowed(api, database):
    from encounter_cli import schemas, services

    rows = [schemas.parse(schemas.PatientCreate, {**ADA, "email": f"p{n}@example.org"}) for n in range(101)]
    database.run(lambda session: [services.add_patient(session, row) for row in rows])
    assert len(api("GET", "/patients").json()) == 100
    assert len(api("GET", "/patients?limit=1000").json()) == 101


def test_show_unknown_is_404_and_a_bad_id_400(api):
    error = error_of(api("GET", "/patients/99", 404))
    assert error == {
        "type": "not_found",
        "message": "patient 99 does not exist",
        "details": {"field": "id", "entity": "patient", "id": 99},
    }
    assert error_of(api("GET", "/patients/0", 400))["details"]["field"] == "patient_id"
    assert error_of(api("GET", "/patients/abc", 400))["details"]["field"] == "patient_id"
    assert error_of(api("GET", f"/patients/{2**31}", 400))["details"]["field"] == "patient_id"


def test_update_changes_the_given_fields_and_clears_with_null(api):
    patient = api("POST", "/patients", 201, json={**ADA, "phone": "+1 555 0100"}).json()
    updated = api("PATCH", f"/patients/{patient['id']}", json={"last_name": "King", "phone": None}).json()
    assert (updated["last_name"], updated["phone"], updated["first_name"]) == ("King", None, "Ada")


@pytest.mark.parametrize(
    ("body", "rule"),
    [({"first_name": None}, "is required and cannot be cleared"), ({}, "needs at least one field to change")],
)
def test_update_refuses_to_clear_required_fields_or_change_nothing(api, body, rule):
    patient = api("POST", "/patients", 201, json=ADA).json()
    assert rule in error_of(api("PATCH", f"/patients/{patient['id']}", 400, json=body))["message"]


def test_update_to_a_taken_email_is_409_and_of_an_unknown_patient_404(api):
    api("POST", "/patients", 201, json=ADA)
    other = api("POST", "/patients", 201, json={**ADA, "email": "b@example.org"}).json()
    assert (
        error_of(api("PATCH", f"/patients/{other['id']}", 409, json={"email": "ada@example.org"}))["type"] == "conflict"
    )
    assert error_of(api("PATCH", "/patients/99", 404, json={"last_name": "X"}))["type"] == "not_found"


def test_sql_metacharacters_and_unicode_are_stored_as_typed(api):
    body = {**ADA, "first_name": "Robert'); DROP TABLE patients;--", "last_name": "Ñoño 🙂"}
    created = api("POST", "/patients", 201, json=body).json()
    assert api("GET", f"/patients/{created['id']}").json()["last_name"] == "Ñoño 🙂"
    assert api("GET", "/patients", params={"search": "'); drop"}).headers["X-Total-Count"] == "1"
