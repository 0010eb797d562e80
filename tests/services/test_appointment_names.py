"""Appointments carry their patient's and doctor's names, computed by a join in the query that loads them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from encounter_cli import services
from encounter_cli.db import Database
from encounter_cli.services import AppointmentFilter, Listing
from tests.helpers import at

NAMES = ("patient_name", "doctor_name")


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def selects(sent: list[str]) -> list[str]:
    return [statement for statement in sent if statement.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def people(new_patient, new_doctor):
    """Patient "Ann Lee" and doctors "Dr One" and "Dr Two"."""
    patient = new_patient(first_name="Ann", last_name="Lee")
    return patient, new_doctor(full_name="Dr One"), new_doctor(full_name="Dr Two")


def listed(database: Database) -> tuple[list[tuple], list[tuple]]:
    """Every appointment's id and names, from the ORM objects and from the stored rows."""

    def work(s):
        listing = services.list_appointments(s, AppointmentFilter())
        objects = [(a.id, a.patient_name, a.doctor_name) for a in listing]
        columns, rows = listing.stored_rows()
        names = [column.name for column in columns]
        assert names[-2:] == list(NAMES)
        return objects, [(row[0], row[-2], row[-1]) for row in rows]

    return database.run(work, write=False)


def test_book_get_list_and_cancel_carry_the_names(database, people, book):
    patient, one, two = people
    booked = book(patient.id, two.id, at(60))
    assert (booked.patient_name, booked.doctor_name) == ("Ann Lee", "Dr Two")
    book(patient.id, one.id, at(120))
    shown = database.run(lambda s: services.get_appointment(s, booked.id), write=False)
    assert (shown.patient_name, shown.doctor_name) == ("Ann Lee", "Dr Two")
    expected = [(1, "Ann Lee", "Dr Two"), (2, "Ann Lee", "Dr One")]
    assert listed(database) == (expected, expected)
    cancelled = database.run(lambda s: services.cancel_appointment(s, 2, now=at(0)))
    assert (cancelled.status, cancelled.patient_name, cancelled.doctor_name) == ("cancelled", "Ann Lee", "Dr One")


def test_a_changed_appointment_reloads_with_its_new_names(database, people, book):
    """The pattern for services that change an appointment: lock it (no names, no join), change it, then
    `return get_appointment(session, appointment.id)`."""
    patient, one, two = people
    appointment = book(patient.id, one.id, at(60))

    def move_to_doctor_two(s):
        assert services.get_appointment(s, appointment.id).doctor_name == "Dr One"
        with statements(database) as sent:
            locked = services.get_appointment(s, appointment.id, lock=True)
        assert "JOIN" not in sent[-1].upper()  # locks the appointment's row only, not the patient's or doctor's
        locked.doctor_id = two.id  # as a reschedule to another doctor would
        s.flush()
        return services.get_appointment(s, appointment.id)

    moved = database.run(move_to_doctor_two)
    assert (moved.patient_name, moved.doctor_name) == ("Ann Lee", "Dr Two")


def test_names_come_from_one_query_however_many_appointments(database, people, book):
    patient, one, _ = people

    def queries() -> tuple[int, int, int]:
        """SELECTs for: the listing's objects, its stored rows, one appointment."""
        counts = []
        for read in (
            lambda s: list(services.list_appointments(s, AppointmentFilter())),
            lambda s: list(services.list_appointments(s, AppointmentFilter()).stored_rows()[1]),
            lambda s: services.get_appointment(s, 1),
        ):
            with statements(database) as sent:
                database.run(read, write=False)
            counts.append(len(selects(sent)))
        return counts[0], counts[1], counts[2]

    book(patient.id, one.id, at(60))
    few = queries()
    for n in range(2, 51):
        book(patient.id, one.id, at(60 * n))
    assert listed(database)[1] == [(n, "Ann Lee", "Dr One") for n in range(1, 51)]
    assert queries() == few == (1, 1, 1)


def test_a_missing_patient_or_doctor_row_lists_with_a_null_name(database, db_url, people, book):
    """Outer joins: an appointment never drops out of a list because a legacy database lost a referenced row."""
    patient, one, _ = people
    book(patient.id, one.id, at(60))
    delete_ignoring_foreign_keys(database, db_url, "doctors", one.id)
    assert listed(database) == ([(1, "Ann Lee", None)], [(1, "Ann Lee", None)])
    assert database.run(lambda s: services.get_appointment(s, 1), write=False).doctor_name is None


def delete_ignoring_foreign_keys(database: Database, db_url: str, table: str, row_id: int) -> None:
    if database.is_sqlite:  # Python's sqlite3 leaves foreign keys unchecked unless asked
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        return
    with database.engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        conn.exec_driver_sql(f"DELETE FROM `{table}` WHERE id = %s", (row_id,))
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")


def test_an_appointment_listing_without_the_names_is_refused(database):
    """A listing that forgot the join would print null names: it fails at once instead."""
    with database.session() as s, pytest.raises(ValueError, match="patient_name"):
        Listing(s, select(database.models.Appointment))
