"""What routes answer: records and pages rendered as `-o json` renders them, and their models for the schema.

The models document the responses (OpenAPI, /docs); the bodies themselves
come from `export`, the code behind the command line's machine formats, so
the API and `-o json` cannot drift apart (tests/api hold the models to the
stored fields).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from encounter_cli import export
from encounter_cli.api.errors import ErrorBody
from encounter_cli.domain import MAX_ROWS, AppointmentStatus
from encounter_cli.services.common import Listing

MAX_PAGE = 1000
PRIVATE = {"Cache-Control": "no-store"}  # patient data stays out of proxies' and browsers' caches
DEFAULT_PAGE = 100
TOTAL_HEADER = "X-Total-Count"


def example(**values: Any) -> ConfigDict:
    """A response model's settings with an example, for the documentation."""
    return ConfigDict(json_schema_extra={"examples": [values]})


STAMPS = {"created_at": "2026-11-20T10:02:11+01:00", "updated_at": "2026-11-20T10:02:11+01:00"}


class Patient(BaseModel):
    model_config = example(
        id=12, first_name="Ada", last_name="Lovelace", email="ada@example.org", phone="+44 20 7946 0000",
        date_of_birth="1815-12-10", **STAMPS,
    )  # fmt: skip
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str | None
    date_of_birth: date | None
    created_at: datetime
    updated_at: datetime


class Doctor(BaseModel):
    model_config = example(id=3, full_name="Gregory House", specialization="Diagnostics", is_active=True, **STAMPS)
    id: int
    full_name: str
    specialization: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class Appointment(BaseModel):
    model_config = example(
        id=7, patient_id=12, doctor_id=3, start_time="2026-12-01T09:30:00+01:00",
        end_time="2026-12-01T10:00:00+01:00", duration_minutes=30, status="booked", reason="check-up",
        cancelled_at=None, cancellation_reason=None, **STAMPS, patient_name="Ada Lovelace",
        doctor_name="Gregory House",
    )  # fmt: skip
    id: int
    patient_id: int
    doctor_id: int
    start_time: datetime
    end_time: datetime
    duration_minutes: int
    status: AppointmentStatus
    reason: str | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    # Output-only, from the patient's and doctor's records; null only if such a record is missing.
    patient_name: str | None
    doctor_name: str | None


class TimeOff(BaseModel):
    model_config = example(
        id=4, doctor_id=3, start_time="2026-12-24T00:00:00+01:00", end_time="2026-12-27T00:00:00+01:00",
        reason="holidays", **STAMPS,
    )  # fmt: skip
    id: int
    doctor_id: int
    start_time: datetime
    end_time: datetime
    reason: str | None
    created_at: datetime
    updated_at: datetime


class Hours(BaseModel):
    """A doctor's weekly hours in effect; `source` says whose: "doctor", "clinic" (the default) or "none"."""

    model_config = example(
        doctor_id=3, source="doctor", hours=["mon-fri 09:00-12:30,13:30-17:00"],
        days={"mon": ["09:00-12:30", "13:30-17:00"], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []},
        outside_hours=0,
    )  # fmt: skip
    doctor_id: int
    source: str
    hours: list[str]
    days: dict[str, list[str]]
    outside_hours: int | None = None  # after a change: future booked appointments now outside the hours


class Health(BaseModel):
    model_config = example(status="ok")
    status: str


class AuditEntry(BaseModel):
    model_config = example(
        id=41, occurred_at="2026-11-20T10:02:11+01:00", actor="reception-desk", source="api",
        action="appointment.cancel", entity="appointment", entity_id=7,
        changes='{"status":["booked","cancelled"],"cancelled_at":[null,"2026-11-20T09:02:11+00:00"]}',
    )  # fmt: skip
    id: int
    occurred_at: datetime
    actor: str
    source: str  # cli, api or import
    action: str
    entity: str
    entity_id: int | None  # null for an import batch, whose ids are in `changes`
    changes: str  # JSON text: {"field": [old, new]}


def record(obj: object, zone: ZoneInfo, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """One record as a JSON object, spaced as the lists of `page` are."""
    body = json.dumps(export.machine_record(obj, zone), ensure_ascii=False)
    return Response(
        body, status_code=status_code, headers={**PRIVATE, **(headers or {})}, media_type="application/json"
    )


def facts(values: Any) -> Response:
    """Data that is not a stored record (a doctor's hours, free slots, a day), as `-o json` prints it."""
    return Response(json.dumps(values, ensure_ascii=False), headers=PRIVATE, media_type="application/json")


def page(listing: Listing[Any], zone: ZoneInfo) -> Response:
    """One page of a listing as a JSON array, the number of all matching rows in X-Total-Count."""
    columns, rows = listing.stored_rows()
    fetched = list(rows)
    body = "[" + ", ".join(export.line_maker(columns, "json", zone)(fetched)) + "]"
    total = listing.total_after(len(fetched))
    return Response(body, media_type="application/json", headers={**PRIVATE, TOTAL_HEADER: str(total)})


Limit = Query(ge=1, le=MAX_PAGE, description=f"Rows per page, 1 to {MAX_PAGE}.")
Offset = Query(ge=0, le=MAX_ROWS, description="Rows to skip.")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS = {
    400: _error("Invalid input: a value breaks a rule; `error.details.field` names it."),
    401: _error("Missing or invalid bearer token."),
    403: _error("Refused by a server without tokens (--no-auth): a Host that is not loopback, or another Origin."),
    404: _error("No such record."),
    409: _error("Conflict with stored state: a taken email or slot, an inactive doctor, a status change."),
    413: _error("The request body is over 1 MB."),
    500: _error("A bug in encounter: no details here; the server log has them."),
    503: _error("The database is unavailable, busy (then with Retry-After) or not set up."),
}
EVERY_ROUTE = {400, 401, 403, 413, 500, 503}


ID_LIST = {"type": "string", "pattern": "^([0-9]+(,[0-9]+)*)?$"}


def documented(
    *codes: int, counts: dict[str, str] | None = None, id_lists: dict[str, str] | None = None, success: int = 200
) -> dict[int | str, dict[str, Any]]:
    """The error responses a route can give: its own `codes` and those every route can give; and the
    headers of its `success` response: integers (`counts`) and comma-separated ids (`id_lists`),
    each name -> description."""
    shown: dict[int | str, dict[str, Any]] = {code: ERRORS[code] for code in sorted({*EVERY_ROUTE, *codes})}
    headers = {name: {"description": text, "schema": {"type": "integer"}} for name, text in (counts or {}).items()}
    headers |= {name: {"description": text, "schema": ID_LIST} for name, text in (id_lists or {}).items()}
    return {success: {"headers": headers}, **shown} if headers else shown


def listed(*codes: int) -> dict[int | str, dict[str, Any]]:
    return documented(*codes, counts={TOTAL_HEADER: "How many rows match, over all pages."})
