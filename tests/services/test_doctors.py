"""Doctor services on SQLite and MySQL/MariaDB: add, get, list, (de)activate: the active-doctor rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encounter_cli import schemas, services
from encounter_cli.errors import Conflict, NotFound
from tests.helpers import NOW, at, count, fetch

BASE = {"full_name": "Dr. Grace Hopper", "specialization": "Cardiology"}


def add(database, **fields):
    data = schemas.parse(schemas.DoctorCreate, {**BASE, **fields})
    return database.run(lambda s: services.add_doctor(s, data, now=NOW))


def set_active(database, doctor_id, active, now=NOW):
    return database.run(lambda s: services.set_doctor_active(s, doctor_id, active, now=now))


def listed(database, **filters):
    return database.run(lambda s: [d.id for d in services.list_doctors(s, **filters)], write=False)


# --- add / get ---------------------------------------------------------------------------------


def test_add_stores_a_trimmed_active_doctor(database):
    doctor = add(database, full_name="  Dr. Grace Hopper ", specialization=" Cardiology ")
    stored = fetch(database, "Doctor", doctor.id)
    assert (stored.full_name, stored.specialization, stored.is_active) == ("Dr. Grace Hopper", "Cardiology", True)
    assert stored.created_at == NOW == stored.updated_at


def test_add_inactive_doctor(database):
    doctor = add(database, is_active=False)
    assert fetch(database, "Doctor", doctor.id).is_active is False


@pytest.mark.parametrize(
    "text",
    ["Dr. 李 Zoë 😀", "Robert'); DROP TABLE doctors;--", 'O\'Neil "Doc" \\ 100%_', "🩺" * 100],
)
def test_names_are_stored_verbatim(database, text):
    doctor = add(database, full_name=text, specialization=text)
    stored = fetch(database, "Doctor", doctor.id)
    assert (stored.full_name, stored.specialization) == (text, text)
    assert count(database, "Doctor") == 1


def test_explicit_id_is_kept_and_a_taken_id_is_a_conflict(database):
    assert add(database, id=7).id == 7
    with pytest.raises(Conflict) as caught:
        add(database, id=7, full_name="Someone Else")
    assert caught.value.field == "id"
    assert count(database, "Doctor") == 1


def test_get_doctor(database):
    doctor = add(database)
    got = database.run(lambda s: services.get_doctor(s, doctor.id), write=False)
    assert (got.id, got.full_name) == (doctor.id, "Dr. Grace Hopper")


def test_get_missing_doctor_is_not_found(database):
    with pytest.raises(NotFound) as caught:
        database.run(lambda s: services.get_doctor(s, 404), write=False)
    assert (caught.value.entity, caught.value.field, caught.value.details["id"]) == ("doctor", "id", 404)


# --- activate / deactivate ---------------------------------------------------------------------


@pytest.mark.parametrize("active", [True, False])
def test_set_active_on_missing_doctor_is_not_found(database, active):
    with pytest.raises(NotFound) as caught:
        set_active(database, 404, active)
    assert caught.value.field == "id"


def test_deactivate_then_reactivate(database):
    doctor = add(database)
    later = NOW + timedelta(hours=1)
    result = set_active(database, doctor.id, False, now=later)
    assert result.doctor.id == doctor.id and result.doctor.is_active is False
    stored = fetch(database, "Doctor", doctor.id)
    assert stored.is_active is False and stored.updated_at == later

    result = set_active(database, doctor.id, True, now=later + timedelta(hours=1))
    assert result.doctor.is_active is True
    assert fetch(database, "Doctor", doctor.id).is_active is True


@pytest.mark.parametrize("active", [True, False])
def test_setting_the_current_state_again_is_harmless(database, active):
    doctor = add(database, is_active=active)
    result = set_active(database, doctor.id, active)
    assert result.doctor.is_active is active
    assert fetch(database, "Doctor", doctor.id).is_active is active


def test_deactivating_keeps_appointments_and_counts_future_booked_ones(database, new_patient, book):
    patient = new_patient()
    doctor, other = add(database), add(database, full_name="Dr. Other")
    past = book(patient.id, doctor.id, at(-60), now=NOW - timedelta(days=1))  # booked yesterday, now in the past
    future = [book(patient.id, doctor.id, at(60 * h)) for h in (1, 2, 24)]
    cancelled = book(patient.id, doctor.id, at(60 * 5))
    database.run(lambda s: services.cancel_appointment(s, cancelled.id, now=NOW))
    book(new_patient().id, other.id, at(60))  # another doctor's booking does not count

    result = set_active(database, doctor.id, False, now=NOW)
    assert result.booked_remaining == len(future)

    for appointment in [past, *future]:
        assert fetch(database, "Appointment", appointment.id).status == "booked"  # nothing cancelled
    assert fetch(database, "Appointment", cancelled.id).status == "cancelled"

    # Later on, fewer of them lie in the future.
    assert set_active(database, doctor.id, False, now=at(90)).booked_remaining == 2
    # Re-activating reports the same count.
    assert set_active(database, doctor.id, True, now=NOW).booked_remaining == len(future)


def test_booked_remaining_is_zero_without_appointments(database):
    assert set_active(database, add(database).id, False).booked_remaining == 0


def test_inactive_doctor_cannot_be_booked_until_reactivated(database, new_patient, book):
    patient, doctor = new_patient(), add(database)
    set_active(database, doctor.id, False)
    with pytest.raises(Conflict) as caught:
        book(patient.id, doctor.id, at(60))
    assert caught.value.field == "doctor_id"
    assert count(database, "Appointment") == 0

    set_active(database, doctor.id, True)
    appointment = book(patient.id, doctor.id, at(60))
    assert fetch(database, "Appointment", appointment.id).status == "booked"


def test_doctor_added_inactive_cannot_be_booked(database, new_patient, book):
    patient, doctor = new_patient(), add(database, is_active=False)
    with pytest.raises(Conflict) as caught:
        book(patient.id, doctor.id, at(60))
    assert caught.value.field == "doctor_id"
    assert caught.value.kind == "conflict"


# --- list --------------------------------------------------------------------------------------


@pytest.fixture
def staff(database):
    rows = [
        ("Dr. A", "Cardiology", True),
        ("Dr. B", "Pediatric Cardiology", False),
        ("Dr. C", "Dermatology", True),
        ("Dr. D", "100% Allergy", True),
        ("Dr. E", "Ear_Nose_Throat", False),
        ("Dr. F", "Neurology", True),
    ]
    return {
        name: add(database, full_name=name, specialization=spec, is_active=active).id for name, spec, active in rows
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["Dr. A", "Dr. B", "Dr. C", "Dr. D", "Dr. E", "Dr. F"]),
        ({"active": True}, ["Dr. A", "Dr. C", "Dr. D", "Dr. F"]),
        ({"active": False}, ["Dr. B", "Dr. E"]),
        ({"specialization": "cardio"}, ["Dr. A", "Dr. B"]),
        ({"specialization": "CARDIOLOGY"}, ["Dr. A", "Dr. B"]),
        ({"specialization": "logy"}, ["Dr. A", "Dr. B", "Dr. C", "Dr. F"]),
        ({"specialization": "cardio", "active": True}, ["Dr. A"]),
        ({"specialization": "cardio", "active": False}, ["Dr. B"]),
        ({"specialization": "%"}, ["Dr. D"]),  # literal
        ({"specialization": "_"}, ["Dr. E"]),  # literal
        ({"specialization": "D_rm"}, []),  # "_" is no wildcard
        ({"specialization": ""}, ["Dr. A", "Dr. B", "Dr. C", "Dr. D", "Dr. E", "Dr. F"]),
        ({"specialization": "Surgery"}, []),
    ],
)
def test_list_filters_in_id_order(database, staff, filters, expected):
    assert listed(database, **filters) == [staff[name] for name in expected]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"search": "Gregory House"}, [1]),
        ({"search": "house gregory"}, [1]),  # either order
        ({"search": "  HOUSE  "}, [1, 3]),
        ({"search": "house greg"}, [1]),  # each word part of the name
        ({"search": "gregory lisa"}, []),  # words combine with AND
        ({"search": "dr. ö"}, [2]),
        ({"search": "ÖZTÜRK"}, [2]),  # Unicode case on both databases
        ({"search": "100%"}, [4]),  # literal
        ({"search": "1_0"}, []),  # "_" is no wildcard
        ({"search": "house", "active": True}, [1]),
        ({"search": "house", "specialization": "nephro"}, [3]),
        ({"search": "555"}, []),  # no phone search for doctors
    ],
)
def test_doctors_are_searched_by_name(database, filters, expected):
    rows = [
        ("Gregory House", "Diagnostics", True),
        ("Dr. Özlem Öztürk", "Cardiology", True),
        ("Lisa House-Cuddy", "Nephrology", False),
        ("Dr. 100% Sure", "General", True),
    ]
    for name, specialization, active in rows:
        add(database, full_name=name, specialization=specialization, is_active=active)
    assert listed(database, **filters) == expected


@pytest.mark.parametrize(("text", "specialization"), [("échographie", "Échographie"), ("ösophagus", "Ösophagus")])
def test_specialization_filter_is_case_insensitive_beyond_ascii(database, text, specialization):
    doctor = add(database, specialization=specialization)
    assert listed(database, specialization=text) == [doctor.id]


def test_list_limit_offset_and_total(database, staff):
    def page(**kwargs):
        def work(s):
            listing = services.list_doctors(s, **kwargs)
            return [d.id for d in listing], listing.total()

        return database.run(work, write=False)

    ids = sorted(staff.values())
    assert page(limit=2) == (ids[:2], 6)
    assert page(limit=2, offset=4) == (ids[4:], 6)
    assert page(offset=5) == (ids[5:], 6)
    assert page(active=True, limit=1, offset=1) == ([staff["Dr. C"]], 4)
    assert page(specialization="cardio", limit=1) == ([staff["Dr. A"]], 2)
