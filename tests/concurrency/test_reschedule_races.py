"""A reschedule that waits for another change of the same appointment must see that change, not what it read
before waiting (on MariaDB its first read is not locked; on SQLite the write lock queues the two).

Thread A changes the appointment and is held inside its transaction, with its locks, while thread B starts
a reschedule of the same appointment and queues behind A; then A is let go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from encounter_cli import schemas, services
from encounter_cli.db import Database
from encounter_cli.errors import EncounterError
from encounter_cli.services import rules
from tests.helpers import fetch

pytestmark = pytest.mark.slow  # waits on purpose

NOW = datetime(2030, 6, 10, 12, 0, tzinfo=timezone.utc)


def at(hour: int) -> datetime:
    return datetime(2031, 3, 3, hour, 0, tzinfo=timezone.utc)


def reschedule(database: Database, appointment_id: int, **change: Any) -> Any:
    data = schemas.parse(schemas.Reschedule, change)
    return database.run(lambda s: services.reschedule_appointment(s, appointment_id, data, now=NOW))


def held_race(monkeypatch, first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Run `first` in thread A, held at its status check (its locks taken) until `second` has started in B."""
    release = threading.Event()
    check = rules.ensure_changeable

    def held(*args: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "A":
            release.wait(10)
        check(*args, **kwargs)

    monkeypatch.setattr(rules, "ensure_changeable", held)
    outcomes: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> None:
        try:
            outcomes[name] = work()
        except EncounterError as error:
            outcomes[name] = error

    threads = [
        threading.Thread(target=run, name=name, args=(name, work)) for name, work in (("A", first), ("B", second))
    ]
    threads[0].start()
    time.sleep(1)  # A holds its locks
    threads[1].start()
    time.sleep(1)  # B has read the appointment and waits for a lock A holds
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def two_bookings(database):
    """X: patient 1 with doctor 1 at 10:00; Y: patient 2 with doctor 2 at 11:00."""
    for n in (1, 2):
        patient = schemas.parse(schemas.PatientCreate, {"first_name": "P", "last_name": "T", "email": f"p{n}@x.org"})
        database.run(lambda s, data=patient: services.add_patient(s, data))
        doctor = schemas.parse(schemas.DoctorCreate, {"full_name": f"Dr {n}", "specialization": "General"})
        database.run(lambda s, data=doctor: services.add_doctor(s, data))

    def book(patient_id: int, doctor_id: int, start: datetime) -> Any:
        values = {"patient_id": patient_id, "doctor_id": doctor_id, "start_time": start, "duration_minutes": 30}
        data = schemas.parse(schemas.AppointmentCreate, values)
        return database.run(lambda s: services.book_appointment(s, data, now=NOW))

    return book(1, 1, at(10)), book(2, 2, at(11)), 2


def test_a_reschedule_after_a_move_to_another_doctor_checks_that_doctor(database, monkeypatch, two_bookings):
    x, y, second = two_bookings
    outcomes = held_race(
        monkeypatch,
        lambda: reschedule(database, x.id, start_time=at(9), doctor_id=second),
        lambda: reschedule(database, x.id, start_time=at(11)),  # now on doctor 2, whose 11:00 is Y's
    )
    assert outcomes["A"].doctor_id == second
    assert isinstance(outcomes["B"], EncounterError) and outcomes["B"].kind == "conflict"
    assert f"(appointment {y.id})" in outcomes["B"].message
    stored = fetch(database, "Appointment", x.id)
    assert (stored.doctor_id, stored.start_time) == (second, at(9))


def test_a_reschedule_waiting_for_a_cancel_sees_the_cancel(database, monkeypatch, two_bookings):
    x, _, _ = two_bookings
    outcomes = held_race(
        monkeypatch,
        lambda: database.run(lambda s: services.cancel_appointment(s, x.id, now=NOW)),
        lambda: reschedule(database, x.id, start_time=at(14)),
    )
    assert outcomes["A"].status == "cancelled"
    assert isinstance(outcomes["B"], EncounterError) and "is cancelled" in outcomes["B"].message
    stored = fetch(database, "Appointment", x.id)
    assert (stored.status, stored.start_time) == ("cancelled", at(10))


def test_a_reschedule_waiting_for_a_longer_one_keeps_start_end_and_duration_consistent(
    database, monkeypatch, two_bookings
):
    x, _, _ = two_bookings
    held_race(
        monkeypatch,
        lambda: reschedule(database, x.id, start_time=at(13), duration_minutes=60),
        lambda: reschedule(database, x.id, start_time=at(15)),
    )
    stored = fetch(database, "Appointment", x.id)
    assert (stored.start_time, stored.duration_minutes) == (at(15), 60)
    assert (stored.end_time - stored.start_time).total_seconds() == 60 * 60
