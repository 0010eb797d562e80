"""Helpers for the service-level tests: a fixed clock and record factories.

Every factory goes through the same path as the CLI: plain values →
`schemas.parse` → `database.run(service)`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from encounter_cli import schemas, services
from encounter_cli.db import Database

UTC = timezone.utc
# The services' clock in these tests: 2030-06-10 12:00 UTC (08:00 in New York).
NOW = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """NOW shifted by whole minutes."""
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def new_patient(database: Database) -> Callable[..., Any]:
    counter = itertools.count(1)

    def make(**fields: Any):
        n = next(counter)
        values = {"first_name": "Pat", "last_name": f"Patient{n}", "email": f"patient{n}@example.org", **fields}
        data = schemas.parse(schemas.PatientCreate, values)
        return database.run(lambda s: services.add_patient(s, data, now=NOW))

    return make


@pytest.fixture
def new_doctor(database: Database) -> Callable[..., Any]:
    counter = itertools.count(1)

    def make(**fields: Any):
        n = next(counter)
        values = {"full_name": f"Dr. Doctor{n}", "specialization": "General practice", **fields}
        data = schemas.parse(schemas.DoctorCreate, values)
        return database.run(lambda s: services.add_doctor(s, data, now=NOW))

    return make


@pytest.fixture
def book(database: Database) -> Callable[..., Any]:
    """`book(patient_id, doctor_id, start, duration=30, now=NOW, **extra)` through the schema and service."""

    def make(patient_id: int, doctor_id: int, start: datetime | str, duration: int = 30, now: datetime = NOW, **extra):
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
def pair(new_patient, new_doctor):
    """One patient and one active doctor."""
    return new_patient(), new_doctor()


def fetch(database: Database, kind: str, record_id: int):
    """Re-read a record in a fresh transaction (nothing cached from the writer)."""
    model = getattr(database.models, kind)
    return database.run(lambda s: s.get(model, record_id), write=False)


def count(database: Database, kind: str) -> int:
    from sqlalchemy import func, select

    model = getattr(database.models, kind)
    return database.run(lambda s: s.scalar(select(func.count()).select_from(model)), write=False)


def run_concurrently(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `work(i)` in `workers` threads at once; return each result or the exception it raised."""
    barrier = threading.Barrier(workers)

    def one(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(workers)))
