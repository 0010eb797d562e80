"""Tokens, the error table, limits, health and the offline docs of the HTTP API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from encounter_cli import services
from encounter_cli.api import responses
from encounter_cli.api.app import create_app
from encounter_cli.errors import STATUSES
from encounter_cli.models import fields_of, models_for
from encounter_cli.services import api_tokens
from tests.api.conftest import error_of, requester
from tests.helpers import count, settings_for

BOOKING = {"patient_id": 1, "doctor_id": 1, "start_time": "2031-01-06T09:00:00Z", "duration_minutes": 30}
PROTECTED = [  # each with a valid body, so that only the token is wrong
    ("POST", "/patients", {"first_name": "A", "last_name": "B", "email": "a@example.org"}),
    ("GET", "/patients", None),
    ("GET", "/patients/1", None),
    ("PATCH", "/patients/1", {"last_name": "C"}),
    ("POST", "/doctors", {"full_name": "D", "specialization": "E"}),
    ("GET", "/doctors", None),
    ("GET", "/doctors/1", None),
    ("POST", "/doctors/1/deactivate", None),
    ("POST", "/doctors/1/activate", None),
    ("POST", "/appointments", BOOKING),
    ("GET", "/appointments", None),
    ("GET", "/appointments/1", None),
    ("POST", "/appointments/1/cancel", None),
    ("POST", "/appointments/1/reschedule", {"start_time": "2031-01-06T10:00:00Z"}),
    ("POST", "/appointments/1/complete", None),
    ("POST", "/appointments/1/no-show", None),
    ("GET", "/doctors/1/hours", None),
    ("PUT", "/doctors/1/hours", {"hours": ["mon-fri 09:00-17:00"]}),
    ("DELETE", "/doctors/1/hours", None),
    ("POST", "/doctors/1/time-off", {"start_time": "2031-01-06T10:00:00Z", "end_time": "2031-01-06T11:00:00Z"}),
    ("GET", "/doctors/1/time-off", None),
    ("DELETE", "/time-off/1", None),
    ("GET", "/slots?doctor_id=1&duration=30", None),
    ("GET", "/schedule", None),
    ("GET", "/audit", None),
]


def test_every_route_of_the_schema_is_covered_here(anonymous):
    schema = anonymous.get("/openapi.json").json()
    routes = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    concrete = {
        (method, path.replace("{patient_id}", "1").replace("{doctor_id}", "1").replace("{appointment_id}", "1"))
        for method, path in ((method, path.replace("{time_off_id}", "1")) for method, path in routes)
    }
    covered = {(method, path.partition("?")[0]) for method, path, _ in PROTECTED}
    assert concrete == {*covered, ("GET", "/health")}


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_every_route_but_health_needs_a_token(anonymous, token, database, method, path, body):
    wrong = ({}, {"Authorization": "Bearer enc_wrong"}, {"Authorization": f"Basic {token}"}, {"Authorization": token})
    for headers in wrong:
        response = requester(anonymous, headers)(method, path, 401, json=body)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert error_of(response)["type"] == "unauthorized"
        assert token not in response.text
    assert count(database, "Patient") == count(database, "Doctor") == 0  # nothing was written


def test_without_a_token_even_an_invalid_request_is_401(anonymous):
    assert anonymous.post("/patients", json={"email": "bob@"}).status_code == 401
    assert anonymous.get("/patients?limit=0").status_code == 401


def test_a_revoked_token_is_refused_at_once(anonymous, token, database):
    client = requester(anonymous, {"Authorization": f"Bearer {token}"})
    client("GET", "/patients")
    database.run(lambda session: api_tokens.revoke_api_token(session, "test-suite"))
    client("GET", "/patients", 401)


def test_open_access_needs_no_token(db_url):
    app = create_app(settings_for(db_url), open_access=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/patients").status_code == 200
    app.state.clinic.database.dispose()


def test_health_needs_no_token(anonymous):
    response = anonymous.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_an_unreachable_database_is_503_with_the_error_body(tmp_path):
    app = create_app(settings_for("mysql+pymysql://root@127.0.0.1:1/none"), open_access=True)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for path in ("/health", "/patients", "/doctors/1"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            error = error_of(response)
            assert error == {
                "type": "unavailable",
                "message": "the database is unavailable; the server log says why",
                "details": {},
            }
            assert "mysql" not in response.text and "127.0.0.1" not in response.text  # the URL is for the log only


def test_a_bug_is_500_without_details(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: ada@example.org")

    monkeypatch.setattr(services, "list_doctors", broken)
    response = api("GET", "/doctors", 500)
    assert error_of(response) == {"type": "internal", "message": response.json()["detail"], "details": {}}
    assert "secret" not in response.text and "ada@" not in response.text


def test_unknown_paths_and_methods_keep_the_error_body(api):
    assert error_of(api("GET", "/nurses", 404))["type"] == "not_found"
    response = api("DELETE", "/patients/1", 405)
    assert error_of(response)["type"] == "invalid" and "GET" in response.headers["Allow"]


def test_bodies_over_1_mb_are_413_announced_or_streamed(api):
    big = b'{"first_name": "' + b"x" * (1024 * 1024) + b'"}'
    assert error_of(api("POST", "/patients", 413, content=big))["details"]["limit"] == 1024 * 1024
    chunks = (big[i : i + 65536] for i in range(0, len(big), 65536))  # no Content-Length: chunked
    assert error_of(api("POST", "/patients", 413, content=chunks))["type"] == "invalid"
    api("POST", "/patients", 400, content=b'{"first_name": "' + b"x" * 1000 + b'"}')  # under the cap: read


def test_statuses_come_from_the_exit_code_table():
    assert {kind: http for kind, (_, http) in STATUSES.items()} == {
        "invalid": 400, "not_found": 404, "conflict": 409, "unavailable": 503,
    }  # fmt: skip
    assert {kind: int(code) for kind, (code, _) in STATUSES.items()} == {
        "invalid": 3, "not_found": 4, "conflict": 5, "unavailable": 6,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("response_model", "kind"),
    [(responses.Patient, "Patient"), (responses.Doctor, "Doctor"), (responses.Appointment, "Appointment")],
)
def test_response_models_document_exactly_the_stored_fields(response_model, kind):
    assert tuple(response_model.model_fields) == fields_of(getattr(models_for(), kind))


def test_docs_work_offline_and_the_schema_has_examples(anonymous):
    page = anonymous.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # every script and style from this server
    for asset in ("/static-offline-docs/swagger-ui-bundle.js", "/static-offline-docs/swagger-ui.css"):
        assert anonymous.get(asset).status_code == 200
    schema = anonymous.get("/openapi.json").json()
    assert schema["components"]["schemas"]["Patient"]["examples"][0]["email"] == "ada@example.org"
    book = schema["paths"]["/appointments"]["post"]
    assert set(book["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "500", "503"}
    assert "422" not in json.dumps(schema) and "HTTPValidationError" not in json.dumps(schema)
    update = schema["paths"]["/patients/{patient_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    first_name = update["properties"]["first_name"]
    assert update["minProperties"] == 1 and first_name["type"] == "string" and "anyOf" not in first_name  # not null
    assert "id" not in book["requestBody"]["content"]["application/json"]["schema"]["properties"]
    cancel = schema["paths"]["/appointments/{appointment_id}/cancel"]["post"]
    assert cancel["requestBody"]["required"] is False and book["requestBody"]["required"] is True
    assert "start_time" in book["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "X-Total-Count" in schema["paths"]["/patients"]["get"]["responses"]["200"]["headers"]


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b'{"first_name": NaN}', "holds NaN, which JSON does not have"),
        (b'{"id": Infinity}', "holds Infinity"),
        (b'{"duration_minutes": 1e400}', "too large for a float"),
        (b'{"first_name": "A\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b'{"first_name": "Ada", "first_name": "Bob"}', 'gives "first_name" twice'),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),
        ('{"first_name": "A"}'.encode("utf-16"), "is not valid JSON"),  # RFC 8259: UTF-8 only
        (b'\xef\xbb\xbf{"first_name": "A"}', "is not valid JSON"),  # nor a byte order mark
    ],
)
def test_hostile_json_is_400_never_500(api, content, rule):
    error = error_of(api("POST", "/patients", 400, content=content))
    assert error["details"]["field"] == "body" and rule in error["message"]


def test_ids_are_assigned_by_the_server(api):
    body = {"id": 2**31 - 1, "full_name": "Max", "specialization": "Y"}
    assert error_of(api("POST", "/doctors", 400, json=body))["message"] == 'id: "2147483647" is assigned by the server'
    assert api("POST", "/doctors", 201, json={k: v for k, v in body.items() if k != "id"}).json()["id"] == 1


@pytest.mark.parametrize("value", ["false", 0, "no", None])
def test_values_are_taken_as_json_types_them(api, value):
    body = {"full_name": "D", "specialization": "S", "is_active": value}
    assert error_of(api("POST", "/doctors", 400, json=body))["details"]["field"] == "is_active"


def test_an_unknown_query_parameter_is_400(api):
    error = error_of(api("GET", "/appointments?doctor=3", 400))
    assert error["message"] == 'doctor: "3" is not a query parameter of this route'
    api("GET", "/appointments?doctor_id=3", 404)  # the right spelling
    assert error_of(api("GET", "/patients?limit=5&limit=1", 400))["message"] == 'limit: "1" is given twice'


def test_a_trailing_slash_is_404_not_a_redirect(api):
    assert error_of(api("POST", "/patients/", 404, json={}))["type"] == "not_found"


def test_patient_data_is_not_cached_and_deactivation_counts_the_kept_bookings(api):
    api("POST", "/patients", 201, json={"first_name": "A", "last_name": "B", "email": "a@example.org"})
    api("POST", "/doctors", 201, json={"full_name": "D", "specialization": "S"})
    api("POST", "/appointments", 201, json=BOOKING)
    assert api("GET", "/patients").headers["Cache-Control"] == "no-store"
    assert api("GET", "/patients/1").headers["Cache-Control"] == "no-store"
    assert api("POST", "/doctors/1/deactivate").headers["X-Booked-Remaining"] == "1"


def test_a_busy_database_is_503_with_retry_after(api, monkeypatch):
    from encounter_cli.errors import DatabaseBusy

    def busy(*args, **kwargs):
        raise DatabaseBusy("database is busy (deadlock); nothing was written")

    monkeypatch.setattr(services, "list_doctors", busy)
    response = api("GET", "/doctors", 503)
    assert response.headers["Retry-After"] == "1" and "retry" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        ({"Host": "localhost:8000"}, 200),
        ({"Host": "[::1]:8000", "Origin": "http://[::1]:8000"}, 200),  # /docs' own "Try it out"
        ({"Host": "clinic.evil.example"}, 403),  # a DNS name rebound to 127.0.0.1
        ({"Origin": "https://evil.example"}, 403),  # a web page open in a browser on this machine
        ({"Origin": "http://localhost:3000"}, 403),  # a page of another local server
    ],
)
def test_a_server_without_tokens_serves_only_this_machine(db_url, headers, status):
    app = create_app(settings_for(db_url), open_access=True)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        response = client.post("/doctors", json={"full_name": "D", "specialization": "S"}, headers=headers)
        assert response.status_code == (201 if status == 200 else status), response.text
        if status == 403:
            assert error_of(response)["type"] == "forbidden"
            assert client.get("/doctors", headers=headers).status_code == 403


@pytest.mark.mysql_only
def test_health_is_503_when_the_tables_are_missing(mysql_url):
    app = create_app(settings_for(mysql_url, prefix="neverMade"))
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.status_code == 503 and error_of(response)["type"] == "unavailable"
