"""Appointment import and the front desk's rules, through the service: what the command line cannot show.

Set-based checking (a fixed number of queries per batch), the clinic's default hours beside `book_appointment`,
a retried batch, and the interval search behind time off and a patient's stored bookings.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from encounter_cli import schemas, services
from encounter_cli.errors import Conflict
from encounter_cli.services import imports
from encounter_cli.working_hours import parse_hours
from tests.helpers import CLINIC_ZONE, NOW

ZONE = ZoneInfo(CLINIC_ZONE)
UTC = timezone.utc
MONDAY = datetime(2030, 6, 17, tzinfo=ZONE)  # a week after NOW


def records(*rows: dict) -> list[tuple[int, dict]]:
    return [(line, row) for line, row in enumerate(rows, start=2)]


def run(database, importer, rows, **mode) -> imports.ImportReport:
    report = imports.ImportReport()
    imports.run_import(database, importer, iter(records(*rows)), report, **mode)
    return report


def staff(database, patients: int, doctors: int) -> None:
    """Patients 1..patients and doctors 1..doctors, through the importers."""
    people = [{"first_name": f"P{n}", "last_name": "S", "email": f"p{n}@example.org"} for n in range(patients)]
    run(database, imports.PatientImport(NOW, ZONE), people)
    staff = [{"full_name": f"Dr {n}", "specialization": "GP"} for n in range(doctors)]
    run(database, imports.DoctorImport(NOW, ZONE), staff)


def visit(patient: int, doctor: int, start: datetime, minutes: int = 30) -> dict:
    return {"patient_id": patient, "doctor_id": doctor, "start_time": start.isoformat(), "duration_minutes": minutes}


def appointments(**options) -> imports.AppointmentImport:
    return imports.AppointmentImport(NOW, ZONE, **options)


def test_a_batch_costs_the_same_queries_whatever_its_size(database):
    """Set-based: every rule is one query per batch (or none), never one per row."""
    staff(database, patients=120, doctors=12)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries_for(rows: list[dict]) -> int:
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", count)
        try:
            report = run(database, appointments(), rows)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        assert (report.written, report.rejected) == (len(rows), [])
        return len(statements)

    small = queries_for([visit(n, n % 12 + 1, MONDAY + timedelta(hours=9 + n)) for n in range(1, 11)])
    large = queries_for([visit(n, n % 12 + 1, MONDAY + timedelta(days=1, minutes=30 * n)) for n in range(1, 121)])
    assert small == large <= 16


def test_the_clinic_hours_reject_as_book_does(database):
    staff(database, patients=2, doctors=2)
    week = parse_hours(["mon-fri 09:00-17:00"])
    database.run(lambda session: services.set_hours(session, 2, parse_hours(["sat 10:00-12:00"]), week, ZONE))
    rows = [
        visit(1, 1, MONDAY + timedelta(hours=8, minutes=45)),  # 2: before the clinic's hours
        visit(2, 1, MONDAY + timedelta(hours=9)),  # 3
        visit(1, 2, MONDAY + timedelta(hours=10)),  # 4: doctor 2 has hours of their own: Saturdays
        visit(1, 2, MONDAY + timedelta(days=5, hours=10)),  # 5
    ]
    report = run(database, appointments(default_hours=week), rows, skip_invalid=True)
    assert [(r.line, r.field, r.type) for r in report.rejected] == [
        (2, "start_time", "conflict"),
        (4, "start_time", "conflict"),
    ]
    for rejection, row in zip(report.rejected, (rows[0], rows[2]), strict=True):
        data = schemas.parse(
            schemas.AppointmentCreate, {**row, "start_time": datetime.fromisoformat(row["start_time"])}
        )
        with pytest.raises(Conflict) as single:
            database.run(lambda s, data=data: services.book_appointment(s, data, NOW, ZONE, default_hours=week))
        assert single.value.message == rejection.message
    # Without the clinic's hours, doctor 1 works at any time.
    assert run(database, appointments(), [visit(1, 1, MONDAY + timedelta(hours=7))]).rejected == []


def test_a_retried_batch_still_finds_the_patients_earlier_rows(database, monkeypatch):
    """A batch whose INSERT lost to another writer is checked again from scratch: the rows of earlier batches,
    inserted in this transaction, are then read from the database, and still hold their patients."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    staff(database, patients=3, doctors=3)
    real_insert, attempts = imports._bulk_insert, []

    def lose_once_in_the_second_batch(session, model, rows, shared):
        attempts.append(len(rows))
        if len(attempts) == 2:
            raise IntegrityError("INSERT", {}, Exception("Duplicate entry"))
        real_insert(session, model, rows, shared)

    monkeypatch.setattr(imports, "_bulk_insert", lose_once_in_the_second_batch)
    ten = MONDAY + timedelta(hours=10)
    rows = [
        visit(1, 1, ten),  # 2
        visit(2, 1, ten + timedelta(hours=1)),  # 3
        visit(3, 2, ten),  # 4: its INSERT loses once
        visit(1, 3, ten + timedelta(minutes=15)),  # 5: line 2 holds patient 1
        visit(2, 3, ten + timedelta(hours=1)),  # 6: line 3 holds patient 2
    ]
    report = run(database, appointments(), rows)
    assert attempts == [2, 1, 1]
    assert [(r.line, r.message.split(" (")[-1]) for r in report.rejected] == [
        (5, "appointment 1)"),  # checked again after the retry: read from the database
        (6, "appointment 2)"),
    ]
    assert report.written == 0


def test_overlapping_intervals_find_the_owners_earliest_clash():
    hour = timedelta(hours=1)
    at = [MONDAY + n * hour for n in range(8)]
    # Owner 1's intervals overlap one another; owner 2's lie inside owner 1's first; owner 3 has none.
    intervals = imports.Overlapping(
        [(1, at[0], at[5], 7), (1, at[1], at[2], 8), (1, at[6], at[7], 9), (2, at[1], at[3], 10)]
    )

    def clash(owner: int, start: timedelta, end: timedelta) -> int | None:
        return intervals.clash(owner, imports._micros(MONDAY + start), imports._micros(MONDAY + end))

    assert clash(1, hour, hour + timedelta(minutes=15)) == 0  # inside both: the earlier one
    assert clash(1, 5 * hour, 6 * hour) is None  # touches both neighbours
    assert clash(1, 5 * hour, 6 * hour + timedelta(minutes=1)) == 2
    assert clash(1, -hour, 0 * hour) is None
    assert clash(1, 7 * hour, 8 * hour) is None
    assert clash(2, 0 * hour, hour) is None  # owner 1's interval is not owner 2's
    assert clash(2, 2 * hour, 4 * hour) == 3
    assert clash(3, 0 * hour, 8 * hour) is None
    assert intervals.interval(2) == (at[6], at[7]) and intervals.ids[2] == 9
    assert imports.Overlapping([]).clash(1, 0, 1) is None
