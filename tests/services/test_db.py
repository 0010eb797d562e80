"""Storage details on SQLite and MySQL/MariaDB: UTC datetimes, camelCase schema, prefixes, constraints."""

from __future__ import annotations

import stat
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, inspect
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError

from encounter_cli import schemas, services
from encounter_cli.db import INIT_HINT, Database
from encounter_cli.db_types import UTCDateTime
from encounter_cli.errors import Unavailable
from encounter_cli.models import output_fields_of, stored_fields_of
from tests.helpers import NOW, UTC, at, count, fetch, settings_for

KOLKATA = timezone(timedelta(hours=5, minutes=30))

EXPECTED_COLUMNS = {
    "patients": {"id", "firstName", "lastName", "email", "phone", "dateOfBirth", "createdAt", "updatedAt"},
    "doctors": {"id", "fullName", "specialization", "isActive", "createdAt", "updatedAt"},
    "appointments": {
        "id",
        "patientId",
        "doctorId",
        "startTime",
        "endTime",
        "durationMinutes",
        "status",
        "reason",
        "cancelledAt",
        "cancellationReason",
        "createdAt",
        "updatedAt",
    },
}


# --- UTCDateTime -------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [sqlite.dialect(), mysql.dialect()])
def test_utc_datetime_converts_aware_values_to_naive_utc(dialect):
    column = UTCDateTime()
    assert column.process_bind_param(datetime(2030, 6, 10, 9, 0, tzinfo=KOLKATA), dialect) == datetime(
        2030, 6, 10, 3, 30
    )
    assert column.process_bind_param(datetime(2030, 6, 10, 9, 0, tzinfo=UTC), dialect) == datetime(2030, 6, 10, 9, 0)
    assert column.process_bind_param(None, dialect) is None
    out = column.process_result_value(datetime(2030, 6, 10, 3, 30), dialect)
    assert out == datetime(2030, 6, 10, 3, 30, tzinfo=UTC) and out.tzinfo is UTC
    assert column.process_result_value(None, dialect) is None


def test_utc_datetime_refuses_naive_values():
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2030, 6, 10, 9, 0), sqlite.dialect())


def test_times_round_trip_as_aware_utc(database, new_patient, new_doctor):
    patient, doctor = new_patient(), new_doctor()
    start = datetime(2030, 6, 11, 9, 0, tzinfo=KOLKATA)

    def work(s):
        appointment = database.models.Appointment(
            patient_id=patient.id,
            doctor_id=doctor.id,
            start_time=start,
            end_time=start + timedelta(minutes=30),
            duration_minutes=30,
            status="booked",
            cancelled_at=None,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(appointment)
        s.flush()
        return appointment.id

    stored = fetch(database, "Appointment", database.run(work))
    for value, expected in [
        (stored.start_time, datetime(2030, 6, 11, 3, 30, tzinfo=UTC)),
        (stored.end_time, datetime(2030, 6, 11, 4, 0, tzinfo=UTC)),
        (stored.created_at, NOW),
    ]:
        assert value == expected
        assert value.tzinfo is UTC
    assert stored.cancelled_at is None


@pytest.mark.parametrize("session_zone", ["+09:00", "-07:00"])
def test_times_are_the_same_instant_whatever_the_session_time_zone(db_url, new_patient, new_doctor, session_zone):
    """MySQL converts TIMESTAMP columns by the session's time_zone; our DATETIME columns must not move."""
    patient, doctor = new_patient(), new_doctor()
    shifted = Database(settings_for(db_url))
    if not shifted.is_sqlite:

        @event.listens_for(shifted.engine, "connect")
        def _zone(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET time_zone = '{session_zone}'")

    start = datetime(2030, 6, 11, 9, 0, tzinfo=KOLKATA)
    data = schemas.parse(
        schemas.AppointmentCreate,
        {"patient_id": patient.id, "doctor_id": doctor.id, "start_time": start, "duration_minutes": 30},
    )
    booked = shifted.run(lambda s: services.book_appointment(s, data, now=NOW))
    reread = shifted.run(lambda s: services.get_appointment(s, booked.id), write=False)
    shifted.dispose()
    plain = Database(settings_for(db_url))
    with plain.engine.connect() as conn:
        raw = conn.exec_driver_sql(f"SELECT startTime FROM {plain.models.Appointment.__tablename__}").scalar()
    plain.dispose()
    assert reread.start_time == start
    assert str(raw)[:16] == "2030-06-11 03:30"  # stored as naive UTC


def test_record_timestamps_are_whole_seconds(database):
    """MySQL's DATETIME keeps no fractions; the services drop them so both databases agree."""
    data = schemas.parse(schemas.PatientCreate, {"first_name": "A", "last_name": "B", "email": "a@b.org"})
    patient = database.run(lambda s: services.add_patient(s, data, now=NOW + timedelta(microseconds=987_654)))
    assert patient.created_at == NOW
    assert fetch(database, "Patient", patient.id).created_at == NOW


def test_naive_datetime_in_a_column_raises_and_writes_nothing(database):
    first_use(database)
    table = database.models.Patient.__table__
    row = {"firstName": "A", "lastName": "B", "email": "a@b.org", "createdAt": datetime(2030, 1, 1), "updatedAt": NOW}
    with pytest.raises(StatementError) as caught, database.engine.begin() as conn:
        conn.execute(insert(table).values(**row))
    assert isinstance(caught.value.orig, ValueError)
    assert "naive datetime" in str(caught.value.orig)
    assert count(database, "Patient") == 0


def test_naive_datetime_through_a_session_is_not_reported_as_an_outage(database, new_patient):
    patient = new_patient()

    def work(s):
        s.get(database.models.Patient, patient.id).updated_at = datetime(2030, 1, 1)  # naive: a caller's bug

    with pytest.raises(Exception) as caught:
        database.run(work)
    assert fetch(database, "Patient", patient.id).updated_at == NOW  # nothing written
    assert not isinstance(caught.value, Unavailable)


# --- schema ------------------------------------------------------------------------------------


def first_use(database: Database) -> None:
    """SQLite makes its tables on first use; do that before looking at the live schema."""
    database.run(lambda s: None, write=False)


def test_live_schema_uses_camel_case_columns(database):
    first_use(database)
    inspector = inspect(database.engine)
    assert set(inspector.get_table_names()) >= set(EXPECTED_COLUMNS)
    for table, columns in EXPECTED_COLUMNS.items():
        assert {c["name"] for c in inspector.get_columns(table)} == columns


def test_live_schema_has_the_required_indexes_and_keys(database):
    first_use(database)
    inspector = inspect(database.engine)
    unique_email = [ix for ix in inspector.get_indexes("patients") if ix["column_names"] == ["email"]]
    assert unique_email and unique_email[0]["unique"]
    assert any(ix["column_names"] == ["doctorId", "startTime"] for ix in inspector.get_indexes("appointments"))
    targets = {
        tuple(fk["constrained_columns"]): fk["referred_table"] for fk in inspector.get_foreign_keys("appointments")
    }
    assert targets == {("patientId",): "patients", ("doctorId",): "doctors"}


def test_python_attributes_are_snake_case(database):
    mapper = inspect(database.models.Appointment)
    stored = stored_fields_of(database.models.Appointment)
    assert {attr.key: attr.columns[0].name for attr in mapper.column_attrs if attr.key in stored} == {
        "id": "id",
        "patient_id": "patientId",
        "doctor_id": "doctorId",
        "start_time": "startTime",
        "end_time": "endTime",
        "duration_minutes": "durationMinutes",
        "status": "status",
        "reason": "reason",
        "cancelled_at": "cancelledAt",
        "cancellation_reason": "cancellationReason",
        "created_at": "createdAt",
        "updated_at": "updatedAt",
    }
    # Computed by the loading query, stored nowhere: the table has no such columns.
    assert output_fields_of(database.models.Appointment) == ("patient_name", "doctor_name")
    assert len(database.models.Appointment.__table__.columns) == len(stored)


def test_patient_with_appointments_cannot_be_deleted(database, pair, book):
    """ON DELETE RESTRICT holds on both databases (SQLite needs PRAGMA foreign_keys)."""
    patient, doctor = pair
    book(patient.id, doctor.id, at(60))
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.delete(s.get(database.models.Patient, patient.id))
    assert count(database, "Patient") == 1


def test_appointment_for_a_missing_doctor_is_refused_by_the_database(database, new_patient):
    patient = new_patient()
    start = at(60)
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(
            database.models.Appointment(
                patient_id=patient.id,
                doctor_id=999,
                start_time=start,
                end_time=start + timedelta(minutes=30),
                duration_minutes=30,
                status="booked",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    assert count(database, "Appointment") == 0


# --- table prefix ------------------------------------------------------------------------------


@pytest.fixture
def prefixed(db_url):
    """A Database whose tables carry the prefix `svcTest`; dropped afterwards."""
    database = Database(settings_for(db_url, prefix="svcTest"))
    if not database.is_sqlite:
        database.create_missing()
    yield database
    if not database.is_sqlite:
        with database.engine.begin() as conn:
            database.models.metadata.drop_all(conn)
    database.dispose()


def test_table_prefix_makes_camel_case_compound_names(prefixed):
    assert sorted(t.name for t in prefixed.models.metadata.sorted_tables) == [
        "svcTestApiTokens",
        "svcTestAppointments",
        "svcTestAuditLog",
        "svcTestDoctorHours",
        "svcTestDoctorTimeOff",
        "svcTestDoctors",
        "svcTestPatients",
    ]
    data = schemas.parse(
        schemas.PatientCreate,
        {"first_name": "Zoë", "last_name": "李", "email": "z@x.org", "date_of_birth": "2000-01-31"},
    )
    patient = prefixed.run(lambda s: services.add_patient(s, data))
    with prefixed.engine.connect() as conn:
        row = conn.exec_driver_sql(
            'SELECT "firstName", "lastName", "dateOfBirth" FROM "svcTestPatients"'
            if prefixed.is_sqlite
            else "SELECT `firstName`, `lastName`, `dateOfBirth` FROM `svcTestPatients`"
        ).one()
    assert tuple(row[:2]) == ("Zoë", "李")
    assert str(row[2]) == "2000-01-31"
    assert fetch(prefixed, "Patient", patient.id).date_of_birth == date(2000, 1, 31)


def test_missing_tables(db_url):
    """SQLite makes its tables on first use; a server database is never altered implicitly."""
    database = Database(settings_for(db_url, prefix="svcMissing"))
    try:
        if database.is_sqlite:
            assert database.run(lambda s: list(services.list_patients(s)), write=False) == []
            assert "svcMissingPatients" in inspect(database.engine).get_table_names()
        else:
            with pytest.raises(Unavailable) as caught:
                database.run(lambda s: services.get_patient(s, 1), write=False)
            assert caught.value.hint == INIT_HINT
            assert "missing" in caught.value.message
            assert "svcMissingPatients" not in inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def test_new_sqlite_file_is_private(tmp_path):
    path = tmp_path / "nested" / "dir" / "clinic.db"
    database = Database(settings_for(f"sqlite:///{path}"))
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        database.run(lambda s: services.list_patients(s).total(), write=False)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        database.dispose()


@pytest.mark.mysql_only
def test_a_connection_the_server_dropped_is_replaced_not_an_error(db_url):
    """A server restart or wait_timeout closes pooled connections; the next use must not fail (pre-ping)."""
    from sqlalchemy import text

    database = Database(settings_for(db_url), connections=1)
    try:
        victim = database.run(lambda s: s.scalar(text("SELECT CONNECTION_ID()")), write=False)
        killer = Database(settings_for(db_url))
        killer.run(lambda s: s.execute(text(f"KILL {int(victim)}")), write=False)
        killer.dispose()
        again = database.run(lambda s: s.scalar(text("SELECT CONNECTION_ID()")), write=False)
        assert again != victim
    finally:
        database.dispose()


def test_ping_checks_the_tables_too(db_url):
    database = Database(settings_for(db_url))
    database.ping()
    database.dispose()
    if db_url.startswith("mysql"):
        bare = Database(settings_for(db_url, prefix="neverMade"))
        with pytest.raises(Unavailable, match="tables are missing"):
            bare.ping()
        bare.dispose()
