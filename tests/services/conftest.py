"""Fixtures for the service-level tests: record factories on the fixed clock `NOW` (tests/helpers.py).

Every factory goes through the same path as the CLI: plain values →
`schemas.parse` → `database.run(service)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from encounter_cli import schemas, services
from encounter_cli.db import Database
from tests.helpers import NOW, UTC, at, count, fetch, run_concurrently

# Service tests written before tests/helpers.py import these from here.
__all__ = ["NOW", "UTC", "at", "count", "fetch", "run_concurrently"]


@pytest.fixture
def new_patient(database: Database) -> Callable[..., Any]:
    counter = itertools.count(1)

    def make(**fields: Any) -> Any:
        n = next(counter)
        values = {"first_name": "Pat", "last_name": f"Patient{n}", "email": f"patient{n}@example.org", **fields}
        data = schemas.parse(schemas.PatientCreate, values)
        return database.run(lambda s: services.add_patient(s, data, now=NOW))

    return make


@pytest.fixture
def new_doctor(database: Database) -> Callable[..., Any]:
    counter = itertools.count(1)

    def make(**fields: Any) -> Any:
        n = next(counter)
        values = {"full_name": f"Dr. Doctor{n}", "specialization": "General practice", **fields}
        data = schemas.parse(schemas.DoctorCreate, values)
        return database.run(lambda s: services.add_doctor(s, data, now=NOW))

    return make


@pytest.fixture
def book(database: Database) -> Callable[..., Any]:
    """`book(patient_id, doctor_id, start, duration=30, now=NOW, **extra)` through the schema and service."""

    def make(
        patient_id: int, doctor_id: int, start: datetime | str, duration: int = 30, now: datetime = NOW, **extra: Any
    ) -> Any:
        values = {
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "start_time": start,
            "duration_minutes": duration,
            **extra,
        }
        data = schemas.parse(schemas.AppointmentCreate, values)
        return database.run(lambda s: services.book_appointment(s, data, now=now))

    return make


@pytest.fixture
def pair(new_patient: Callable[..., Any], new_doctor: Callable[..., Any]) -> tuple[Any, Any]:
    """One patient and one active doctor."""
    return new_patient(), new_doctor()
