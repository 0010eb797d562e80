"""Race-freedom with real OS processes, each with its own engine, released at once by a barrier.

Runs on the SQLite file and on the MySQL server (the `db_url` fixture).
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from encounter_cli import schemas, services
from encounter_cli.db import Database
from encounter_cli.errors import EncounterError
from tests.helpers import settings_for

pytestmark = pytest.mark.slow  # real OS processes

WORKERS = 8
START = datetime(2031, 3, 3, 14, 0, tzinfo=timezone.utc)


def book(database: Database, patient_id: int, doctor_id: int, start: datetime) -> None:
    data = schemas.parse(
        schemas.AppointmentCreate,
        {"patient_id": patient_id, "doctor_id": doctor_id, "start_time": start, "duration_minutes": 30},
    )
    database.run(lambda session: services.book_appointment(session, data))


def add_patient(database: Database, n: int, email: str) -> None:
    data = schemas.parse(schemas.PatientCreate, {"first_name": f"P{n}", "last_name": "Race", "email": email})
    database.run(lambda session: services.add_patient(session, data))


def worker(url: str, barrier, results, task: str, args: tuple) -> None:
    """One competing process: connect, wait for the others, then write once."""
    database = Database(settings_for(url))
    try:
        database.engine.connect().close()  # connect before the start signal, so the writes collide
        barrier.wait(timeout=60)
        {"book": book, "add_patient": add_patient}[task](database, *args)
        results.put("ok")
    except EncounterError as error:
        results.put(error.kind)
    except Exception as error:  # reported to the test, which fails on anything unexpected
        results.put(f"crash: {error!r}")
    finally:
        database.dispose()


def race(url: str, task: str, arguments: list[tuple]) -> list[str]:
    """Run one process per argument tuple, all released together; return their outcomes."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(arguments)), context.Queue()
    processes = [context.Process(target=worker, args=(url, barrier, results, task, args)) for args in arguments]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return sorted(outcomes)


@pytest.fixture
def staffed(database: Database) -> Database:
    """WORKERS patients and WORKERS doctors."""
    for n in range(1, WORKERS + 1):
        add_patient(database, n, f"p{n}@example.org")
        data = schemas.parse(schemas.DoctorCreate, {"full_name": f"Dr {n}", "specialization": "General"})
        database.run(lambda session, data=data: services.add_doctor(session, data))
    return database


def overlapping_pairs(database: Database, whose: str = "doctor_id") -> int:
    """Self-join: pairs of booked appointments of one doctor (or patient) whose [start, end) intervals intersect."""
    first, second = aliased(database.models.Appointment), aliased(database.models.Appointment)
    query = select(func.count()).where(
        getattr(first, whose) == getattr(second, whose),
        first.id < second.id,
        first.status == "booked",
        second.status == "booked",
        first.start_time < second.end_time,
        second.start_time < first.end_time,
    )
    with database.session() as session:
        return session.scalar(query)


def booked_count(database: Database) -> int:
    with database.session() as session:
        return services.list_appointments(session, services.AppointmentFilter(status="booked")).total()


def test_overlapping_bookings_for_one_doctor_let_exactly_one_through(staffed, db_url):
    # Starts one minute apart with 30-minute durations: every pair overlaps.
    arguments = [(n, 1, START + timedelta(minutes=n)) for n in range(1, WORKERS + 1)]
    assert race(db_url, "book", arguments) == ["conflict"] * (WORKERS - 1) + ["ok"]
    assert booked_count(staffed) == 1
    assert overlapping_pairs(staffed) == 0


def test_one_patient_booked_with_every_doctor_at_once_gets_exactly_one(staffed, db_url):
    """Rule 9 under concurrency: each process locks a different doctor, so only the patient's row queues them."""
    arguments = [(1, n, START) for n in range(1, WORKERS + 1)]
    assert race(db_url, "book", arguments) == ["conflict"] * (WORKERS - 1) + ["ok"]
    assert booked_count(staffed) == 1
    assert overlapping_pairs(staffed, "patient_id") == 0


def test_same_time_for_different_doctors_all_succeed(staffed, db_url):
    arguments = [(n, n, START) for n in range(1, WORKERS + 1)]
    assert race(db_url, "book", arguments) == ["ok"] * WORKERS
    assert booked_count(staffed) == WORKERS


def test_same_email_from_many_processes_is_added_once(database, db_url):
    arguments = [(n, "Same@Example.org" if n % 2 else "same@example.org") for n in range(1, WORKERS + 1)]
    assert race(db_url, "add_patient", arguments) == ["conflict"] * (WORKERS - 1) + ["ok"]
    with database.session() as session:
        assert [p.email for p in services.list_patients(session)] == ["same@example.org"]


def test_the_overlap_self_join_does_find_overlaps(staffed):
    """Guards the check above: two overlapping rows written behind the services' back are found."""
    model = staffed.models.Appointment
    with staffed.session(write=True) as session:
        for minutes in (0, 10):
            start = START + timedelta(minutes=minutes)
            session.add(
                model(patient_id=1, doctor_id=1, start_time=start, end_time=start + timedelta(minutes=30),
                      duration_minutes=30, status="booked", created_at=START, updated_at=START)
            )  # fmt: skip
    assert overlapping_pairs(staffed) == 1
    assert overlapping_pairs(staffed, "patient_id") == 1
