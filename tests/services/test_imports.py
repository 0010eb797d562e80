"""Import service paths that need a lever the CLI does not offer: races, retries, dry-run memory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import schemas, services
from encounter_cli.errors import DatabaseBusy
from encounter_cli.services import imports

NOW = datetime(2030, 6, 10, 12, 0, tzinfo=timezone.utc)


def records(*rows: dict) -> list[tuple[int, dict]]:
    return [(line, row) for line, row in enumerate(rows, start=2)]


def run(database, importer, rows, **mode) -> imports.ImportReport:
    report = imports.ImportReport()
    imports.run_import(database, importer, iter(rows), report, **mode)
    return report


def patients(dry_run: bool = False) -> imports.PatientImport:
    return imports.PatientImport(NOW, ZoneInfo("UTC"), dry_run=dry_run)


def appointments(dry_run: bool = False) -> imports.AppointmentImport:
    return imports.AppointmentImport(NOW, ZoneInfo("UTC"), dry_run=dry_run)


def patient(n: int, email: str | None = None) -> dict:
    return {"first_name": f"P{n}", "last_name": "Import", "email": email or f"p{n}@example.org"}


def stored_emails(database) -> list[str]:
    with database.session() as session:
        return [p.email for p in services.list_patients(session)]


def test_a_row_stored_by_someone_else_between_check_and_insert_is_a_conflict(database, monkeypatch):
    """The UNIQUE index catches what the batch check could not see; the batch is checked again."""
    database.run(lambda s: services.add_patient(s, schemas.parse(schemas.PatientCreate, patient(0, "taken@x.org"))))
    real_check = imports.PatientImport.check_batch
    calls = []

    def blind_first_check(self, session, rows):
        calls.append(1)
        return {} if len(calls) == 1 else real_check(self, session, rows)  # as if the row was not there yet

    monkeypatch.setattr(imports.PatientImport, "check_batch", blind_first_check)
    report = run(
        database,
        imports.PatientImport(NOW, ZoneInfo("UTC")),
        records(patient(1), patient(2, "TAKEN@x.org")),
        skip_invalid=True,
    )
    assert len(calls) == 2
    assert [(r.line, r.field, r.type) for r in report.rejected] == [(3, "email", "conflict")]
    assert report.written == 1
    assert stored_emails(database) == ["taken@x.org", "p1@example.org"]


def test_a_retried_skip_invalid_batch_does_not_collide_with_itself(database, monkeypatch):
    """A deadlock rolls the batch back; its retry must not see its own bookings from the failed attempt."""
    database.run(lambda s: services.add_patient(s, schemas.parse(schemas.PatientCreate, patient(1))))
    doctor = schemas.parse(schemas.DoctorCreate, {"full_name": "Dr", "specialization": "GP"})
    database.run(lambda s: services.add_doctor(s, doctor))
    real_insert = imports._bulk_insert
    attempts = []

    def busy_once(session, model, rows, shared):
        attempts.append(1)
        if len(attempts) == 1:
            raise DatabaseBusy("database is busy (deadlock); nothing was written")
        real_insert(session, model, rows, shared)

    monkeypatch.setattr(imports, "_bulk_insert", busy_once)
    start = NOW + timedelta(days=1)
    rows = records(*({"patient_id": 1, "doctor_id": 1, "start_time": (start + timedelta(hours=h)).isoformat(),
                      "duration_minutes": 30} for h in range(3)))  # fmt: skip
    importer = imports.AppointmentImport(NOW, ZoneInfo("UTC"))
    report = run(database, importer, rows, skip_invalid=True)
    assert (report.written, report.rejected, len(attempts)) == (3, [], 2)


def test_a_dry_run_finds_duplicates_across_batches_without_inserting(database, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    rows = records(
        patient(1), {**patient(2), "id": 7}, patient(3), {**patient(4, "P1@example.org")}, {**patient(5), "id": 7}
    )
    report = run(database, patients(dry_run=True), rows)
    assert [(r.line, r.field, r.type) for r in report.rejected] == [(5, "email", "conflict"), (6, "id", "conflict")]
    assert [r.message for r in report.rejected] == [
        'email: "p1@example.org" appears twice in the input (first at line 2)',
        'id: "7" appears twice in the input (first at line 3)',
    ]
    assert (report.valid, report.written) == (3, 0)
    assert stored_emails(database) == []


def test_a_dry_run_finds_overlaps_across_batches(database, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 1)
    database.run(lambda s: services.add_patient(s, schemas.parse(schemas.PatientCreate, patient(1))))
    doctor = schemas.parse(schemas.DoctorCreate, {"full_name": "Dr", "specialization": "GP"})
    database.run(lambda s: services.add_doctor(s, doctor))
    start = (NOW + timedelta(days=1)).isoformat()
    row = {"patient_id": 1, "doctor_id": 1, "start_time": start, "duration_minutes": 30}
    report = run(database, appointments(dry_run=True), records(row, row))
    assert [(r.line, r.field, r.type) for r in report.rejected] == [(3, "start_time", "conflict")]


@pytest.mark.parametrize("value", [4_000_000_000, 4.1e9, True])
def test_an_appointment_start_must_be_text_not_a_number(database, value):
    """JSON numbers are not read as Unix timestamps (these would be in 2096): a start time is ISO 8601 text."""
    row = {"patient_id": 1, "doctor_id": 1, "start_time": value, "duration_minutes": 30}
    report = run(database, imports.AppointmentImport(NOW, ZoneInfo("UTC")), records(row))
    assert [(r.field, r.type) for r in report.rejected] == [("start_time", "invalid")]
    assert "must be an ISO 8601 time" in report.rejected[0].message


def test_rows_are_counted_as_written_only_once_the_commit_is_done(database, monkeypatch):
    """A commit that fails (a full disk, a lost server) leaves `written` at 0, so no report claims a save."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import SessionTransaction

    from encounter_cli.errors import Unavailable

    real_commit = SessionTransaction.commit

    def failing_commit(self, *args, **kwargs):
        if self.nested:  # the batch's savepoint: as usual
            return real_commit(self, *args, **kwargs)
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(SessionTransaction, "commit", failing_commit)
    report = imports.ImportReport()
    with pytest.raises(Unavailable):
        imports.run_import(database, patients(), iter(records(patient(1), patient(2))), report)
    assert (report.valid, report.written) == (2, 0)


@pytest.mark.parametrize("mode", [{}, {"skip_invalid": True}])
def test_ctrl_c_during_the_commit_waits_for_it_and_for_the_count(database, mode):
    """The report and the database agree however late the interrupt lands: a script learns how far it got."""
    import os
    import signal

    from sqlalchemy import event

    def interrupt(connection):
        os.kill(os.getpid(), signal.SIGINT)

    event.listen(database.engine, "commit", interrupt)  # just before the database commits
    report = imports.ImportReport()
    try:
        with pytest.raises(KeyboardInterrupt):
            imports.run_import(database, patients(), iter(records(patient(1), patient(2))), report, **mode)
    finally:
        event.remove(database.engine, "commit", interrupt)
    assert len(stored_emails(database)) == 2
    assert report.written == 2


def test_a_stored_appointment_with_id_0_is_named_as_an_appointment_not_a_line():
    bookings = imports.Bookings()
    minute = 60_000_000  # times are microseconds since the epoch
    at = imports._micros(NOW)
    bookings.add(at, at + 30 * minute, appointment_id=0)
    bookings.add(at + 60 * minute, at + 120 * minute, line=4)
    assert bookings.holder(bookings.clash(at, at + 15 * minute)) == {"appointment_id": 0}
    assert bookings.holder(bookings.clash(at + 60 * minute, at + 180 * minute)) == {
        "appointment_id": None,
        "line": 4,
    }
