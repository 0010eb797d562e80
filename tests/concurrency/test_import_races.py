"""Rule 9 between imports and bookings, with real OS processes released at once by a barrier.

An import locks its batch's doctors and then its patients, as `book` does, so an import and a booking of one
patient with different doctors queue for the patient's row instead of both finding the patient free.
Runs on the SQLite file and on the MySQL server (the `db_url` fixture).
"""

from __future__ import annotations

import multiprocessing
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import schemas, services
from encounter_cli.clinic_time import now_utc
from encounter_cli.db import Database
from encounter_cli.errors import EncounterError
from encounter_cli.services import imports
from tests.concurrency.test_races import START, WORKERS, add_patient, book, booked_count, overlapping_pairs
from tests.helpers import settings_for

pytestmark = pytest.mark.slow  # real OS processes


def import_one(database: Database, patient_id: int, doctor_id: int, skip_invalid: bool) -> str:
    row = {"patient_id": patient_id, "doctor_id": doctor_id, "start_time": START.isoformat(), "duration_minutes": 30}
    report = imports.ImportReport()
    importer = imports.AppointmentImport(now_utc(), ZoneInfo("UTC"))
    imports.run_import(database, importer, iter([(2, row)]), report, skip_invalid=skip_invalid)
    return "ok" if report.written == 1 else report.rejected[0].type


def competitor(url: str, barrier, results, args: tuple) -> None:
    """One process: book, or import one row (all-or-nothing or --skip-invalid), once the others are ready."""
    database = Database(settings_for(url))
    try:
        database.engine.connect().close()  # connect before the start signal, so the writes collide
        barrier.wait(timeout=60)
        how, patient_id, doctor_id = args
        if how == "book":
            book(database, patient_id, doctor_id, START)
            results.put("ok")
        else:
            results.put(import_one(database, patient_id, doctor_id, skip_invalid=how == "skip-invalid"))
    except EncounterError as error:
        results.put(error.kind)
    except Exception as error:  # reported to the test, which fails on anything unexpected
        results.put(f"crash: {error!r}")
    finally:
        database.dispose()


@pytest.fixture
def desk(database: Database) -> Database:
    """Patient 1 and WORKERS doctors."""
    add_patient(database, 1, "p1@example.org")
    for n in range(1, WORKERS + 1):
        data = schemas.parse(schemas.DoctorCreate, {"full_name": f"Dr {n}", "specialization": "General"})
        database.run(lambda session, data=data: services.add_doctor(session, data))
    return database


def test_imports_and_bookings_of_one_patient_with_every_doctor_let_exactly_one_through(desk, db_url):
    ways = ["import", "skip-invalid", "book", "book"]
    arguments = [(ways[n % len(ways)], 1, n + 1) for n in range(WORKERS)]  # patient 1, a doctor each, one time
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=competitor, args=(db_url, barrier, results, args)) for args in arguments]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert outcomes == ["conflict"] * (WORKERS - 1) + ["ok"]
    assert (booked_count(desk), overlapping_pairs(desk, "patient_id")) == (1, 0)
