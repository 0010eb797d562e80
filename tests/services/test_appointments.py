"""Appointment services on SQLite and MySQL/MariaDB: book, get, list, cancel; future starts, overlaps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from encounter_cli import schemas, services
from encounter_cli.errors import Conflict, InvalidInput, NotFound
from encounter_cli.services import AppointmentFilter
from tests.helpers import NOW, UTC, at, count, fetch, run_concurrently


def cancel(database, appointment_id, reason=None, now=NOW):
    return database.run(lambda s: services.cancel_appointment(s, appointment_id, reason, now=now))


def set_status(database, appointment_id, status):
    def work(s):
        s.get(database.models.Appointment, appointment_id).status = status

    database.run(work)


def listed(database, limit=None, offset=0, **where):
    return database.run(
        lambda s: [a.id for a in services.list_appointments(s, AppointmentFilter(**where), limit, offset)], write=False
    )


# --- booking -----------------------------------------------------------------------------------


def test_booking_stores_every_field(database, pair, book):
    patient, doctor = pair
    appointment = book(patient.id, doctor.id, at(60), duration=45, reason="Chest pain; 'urgent' -- 100%")
    stored = fetch(database, "Appointment", appointment.id)
    assert (stored.patient_id, stored.doctor_id) == (patient.id, doctor.id)
    assert stored.start_time == at(60)
    assert stored.end_time == at(105)  # end = start + duration, stored
    assert stored.duration_minutes == 45
    assert stored.status == "booked"
    assert stored.reason == "Chest pain; 'urgent' -- 100%"
    assert stored.cancelled_at is None and stored.cancellation_reason is None
    assert stored.created_at == NOW == stored.updated_at


@pytest.mark.parametrize("reason", ["Zoë 李 😀", "Robert'); DROP TABLE appointments;--", "😀" * 500, None])
def test_reason_is_stored_verbatim(database, pair, book, reason):
    appointment = book(*[r.id for r in pair], at(60), reason=reason)
    assert fetch(database, "Appointment", appointment.id).reason == reason
    assert count(database, "Appointment") == 1


def test_times_round_trip_as_aware_utc(database, pair, book):
    """An offset other than UTC is stored as UTC and comes back as an aware UTC datetime."""
    patient, doctor = pair
    kolkata = timezone(timedelta(hours=5, minutes=30))
    appointment = book(patient.id, doctor.id, datetime(2030, 6, 11, 9, 0, tzinfo=kolkata))
    stored = fetch(database, "Appointment", appointment.id)
    assert stored.start_time == datetime(2030, 6, 11, 3, 30, tzinfo=UTC)
    assert stored.start_time.tzinfo is timezone.utc
    assert stored.end_time == datetime(2030, 6, 11, 4, 0, tzinfo=UTC)
    assert stored.end_time.tzinfo is timezone.utc
    assert stored.created_at.tzinfo is timezone.utc

    with database.engine.connect() as conn:  # naive UTC in the column itself
        raw = conn.exec_driver_sql("SELECT startTime FROM appointments").scalar_one()
    assert str(raw).startswith("2030-06-11 03:30:00")


@pytest.mark.parametrize(
    ("start", "now", "ok"),
    [
        (at(-24 * 60), NOW, False),
        (at(-1), NOW, False),
        (NOW, NOW, False),  # not strictly after now
        (at(1), NOW, True),
        (NOW, NOW - timedelta(seconds=1), True),
        (NOW, NOW + timedelta(seconds=30), False),
        (at(1), NOW + timedelta(seconds=59), True),
        (at(365 * 24 * 60), NOW, True),
    ],
)
def test_start_must_be_strictly_in_the_future(database, pair, book, start, now, ok):
    patient, doctor = pair
    if ok:
        assert fetch(database, "Appointment", book(patient.id, doctor.id, start, now=now).id).start_time == start
    else:
        with pytest.raises(InvalidInput) as caught:
            book(patient.id, doctor.id, start, now=now)
        assert caught.value.field == "start_time"
        assert caught.value.rule == "must be in the future"
        assert count(database, "Appointment") == 0


def test_default_clock_is_the_real_one(database, pair):
    """Without `now=`, "the future" is judged against the real clock."""
    patient, doctor = pair
    past = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
    data = schemas.parse(
        schemas.AppointmentCreate,
        {"patient_id": patient.id, "doctor_id": doctor.id, "start_time": past, "duration_minutes": 30},
    )
    with pytest.raises(InvalidInput) as caught:
        database.run(lambda s: services.book_appointment(s, data))
    assert caught.value.field == "start_time"


@pytest.mark.parametrize(("minutes", "ok"), [(14, False), (15, True), (180, True), (181, False)])
def test_duration_limits(database, pair, book, minutes, ok):
    patient, doctor = pair
    if ok:
        stored = fetch(database, "Appointment", book(patient.id, doctor.id, at(60), duration=minutes).id)
        assert (stored.duration_minutes, stored.end_time) == (minutes, at(60 + minutes))
    else:
        with pytest.raises(InvalidInput) as caught:
            book(patient.id, doctor.id, at(60), duration=minutes)
        assert caught.value.field == "duration_minutes"
        assert count(database, "Appointment") == 0


def test_missing_patient_is_not_found(database, new_doctor, book):
    doctor = new_doctor()
    with pytest.raises(NotFound) as caught:
        book(999, doctor.id, at(60))
    assert (caught.value.field, caught.value.entity, caught.value.kind) == ("patient_id", "patient", "not_found")
    assert count(database, "Appointment") == 0


def test_missing_doctor_is_not_found(database, new_patient, book):
    patient = new_patient()
    with pytest.raises(NotFound) as caught:
        book(patient.id, 999, at(60))
    assert (caught.value.field, caught.value.entity) == ("doctor_id", "doctor")
    assert count(database, "Appointment") == 0


def test_explicit_id_is_kept_and_a_taken_id_is_a_conflict(database, pair, book):
    patient, doctor = pair
    assert book(patient.id, doctor.id, at(60), id=500).id == 500
    with pytest.raises(Conflict) as caught:
        book(patient.id, doctor.id, at(600), id=500)
    assert caught.value.field == "id"
    assert count(database, "Appointment") == 1


# --- overlaps ----------------------------------------------------------------------------------

# The doctor already has [10:00, 11:00) booked; times are minutes after NOW (12:00 UTC) + 22 h,
# i.e. 10:00 UTC on the next day.
TEN = 22 * 60


@pytest.mark.parametrize(
    ("start", "duration", "clash"),
    [
        (TEN - 60, 60, False),  # back-to-back before: [9:00, 10:00)
        (TEN + 60, 30, False),  # back-to-back after: [11:00, 11:30)
        (TEN - 15, 15, False),  # [9:45, 10:00)
        (TEN - 30, 60, True),  # overlaps the start
        (TEN + 30, 60, True),  # overlaps the end
        (TEN + 59, 15, True),  # overlaps the last minute
        (TEN - 14, 15, True),  # overlaps the first minute
        (TEN, 60, True),  # identical
        (TEN + 15, 15, True),  # contained
        (TEN, 15, True),  # contained, same start
        (TEN + 45, 15, True),  # contained, same end
        (TEN - 60, 180, True),  # contains the booked one
    ],
)
def test_overlap_rules_use_half_open_intervals(database, pair, book, start, duration, clash):
    patient, doctor = pair
    existing = book(patient.id, doctor.id, at(TEN), duration=60)
    if clash:
        with pytest.raises(Conflict) as caught:
            book(patient.id, doctor.id, at(start), duration=duration)
        assert caught.value.field == "start_time"
        assert caught.value.details["appointment_id"] == existing.id
        assert listed(database) == [existing.id]
    else:
        created = book(patient.id, doctor.id, at(start), duration=duration)
        assert sorted(listed(database)) == sorted([existing.id, created.id])


def test_overlap_is_judged_in_utc_whatever_the_offset(database, pair, book):
    patient, doctor = pair
    book(patient.id, doctor.id, datetime(2030, 6, 11, 14, 0, tzinfo=UTC), duration=60)
    new_york = timezone(timedelta(hours=-4))
    with pytest.raises(Conflict):
        book(patient.id, doctor.id, datetime(2030, 6, 11, 10, 30, tzinfo=new_york))  # 14:30 UTC
    assert book(patient.id, doctor.id, datetime(2030, 6, 11, 11, 0, tzinfo=new_york)).start_time == datetime(
        2030, 6, 11, 15, 0, tzinfo=UTC
    )


def test_another_doctor_at_the_same_time_is_fine(database, new_patient, new_doctor, book):
    first, second = new_doctor(), new_doctor()
    a = book(new_patient().id, first.id, at(TEN), duration=60)
    b = book(new_patient().id, second.id, at(TEN), duration=60)
    assert listed(database, start_from=at(TEN)) == [a.id, b.id]


def test_cancelling_frees_the_slot(database, pair, book):
    patient, doctor = pair
    first = book(patient.id, doctor.id, at(TEN), duration=60)
    cancel(database, first.id)
    second = book(patient.id, doctor.id, at(TEN + 30), duration=60)
    assert fetch(database, "Appointment", second.id).status == "booked"
    assert listed(database, status="booked") == [second.id]
    assert listed(database, status="cancelled") == [first.id]


def test_concurrent_overlapping_bookings_keep_one(database, pair):
    """No overlapping bookings under concurrency: many writers, overlapping slots, one winner."""
    patient, doctor = pair
    workers = 8

    def work(i):
        data = schemas.parse(
            schemas.AppointmentCreate,
            {"patient_id": patient.id, "doctor_id": doctor.id, "start_time": at(TEN + 5 * i), "duration_minutes": 60},
        )
        return database.run(lambda s: services.book_appointment(s, data, now=NOW)).id

    results = run_concurrently(workers, work)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) and r.field == "start_time" for r in results if r not in winners), results
    assert listed(database) == winners


# --- get ---------------------------------------------------------------------------------------


def test_get_appointment(database, pair, book):
    appointment = book(*[r.id for r in pair], at(60))
    got = database.run(lambda s: services.get_appointment(s, appointment.id), write=False)
    assert (got.id, got.start_time) == (appointment.id, at(60))


def test_get_missing_appointment_is_not_found(database):
    with pytest.raises(NotFound) as caught:
        database.run(lambda s: services.get_appointment(s, 31337), write=False)
    assert (caught.value.entity, caught.value.field) == ("appointment", "id")


# --- cancelling --------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["Patient is ill", "Zoë 李 😀 '); DROP TABLE appointments;--", None])
def test_cancel_records_when_and_why(database, pair, book, reason):
    appointment = book(*[r.id for r in pair], at(120))
    when = at(30)
    result = cancel(database, appointment.id, reason=reason, now=when)
    assert result.status == "cancelled"
    stored = fetch(database, "Appointment", appointment.id)
    assert stored.status == "cancelled"
    assert stored.cancelled_at == when
    assert stored.cancelled_at.tzinfo is timezone.utc
    assert stored.cancellation_reason == reason
    assert stored.updated_at == when
    assert stored.created_at == NOW


def test_cancelling_twice_is_a_conflict(database, pair, book):
    appointment = book(*[r.id for r in pair], at(120))
    cancel(database, appointment.id, reason="first", now=at(10))
    with pytest.raises(Conflict) as caught:
        cancel(database, appointment.id, reason="second", now=at(20))
    assert caught.value.field == "status"
    stored = fetch(database, "Appointment", appointment.id)
    assert (stored.cancellation_reason, stored.cancelled_at) == ("first", at(10))  # first cancellation kept


@pytest.mark.parametrize("status", ["completed", "no_show"])
def test_cancelling_a_finished_appointment_is_a_conflict(database, pair, book, status):
    appointment = book(*[r.id for r in pair], at(120))
    set_status(database, appointment.id, status)
    with pytest.raises(Conflict) as caught:
        cancel(database, appointment.id)
    assert caught.value.field == "status"
    assert caught.value.details["status"] == status
    assert fetch(database, "Appointment", appointment.id).status == status


@pytest.mark.parametrize(
    "now_minutes",
    [
        120,  # exactly at the start
        121,  # in progress
        150,  # at the end
        24 * 60,  # long past
    ],
)
def test_cancelling_a_started_or_past_appointment_is_a_conflict(database, pair, book, now_minutes):
    appointment = book(*[r.id for r in pair], at(120), duration=30)
    with pytest.raises(Conflict) as caught:
        cancel(database, appointment.id, now=at(now_minutes))
    assert caught.value.field == "start_time"
    stored = fetch(database, "Appointment", appointment.id)
    assert (stored.status, stored.cancelled_at) == ("booked", None)


def test_cancelling_just_before_the_start_is_fine(database, pair, book):
    appointment = book(*[r.id for r in pair], at(120))
    assert cancel(database, appointment.id, now=at(119)).status == "cancelled"


def test_cancelling_a_missing_appointment_is_not_found(database):
    with pytest.raises(NotFound) as caught:
        cancel(database, 404)
    assert (caught.value.entity, caught.value.field) == ("appointment", "id")


# --- listing -----------------------------------------------------------------------------------


@pytest.fixture
def schedule(database, new_patient, new_doctor, book):
    """Two doctors, two patients, bookings over two days (inserted out of order), one cancelled."""
    p1, p2 = new_patient(), new_patient()
    d1, d2 = new_doctor(), new_doctor()
    day1, day2 = datetime(2030, 6, 11, tzinfo=UTC), datetime(2030, 6, 12, tzinfo=UTC)
    rows = {
        "d1-day2-09": (p1, d1, day2 + timedelta(hours=9)),
        "d1-day1-10": (p1, d1, day1 + timedelta(hours=10)),
        "d2-day1-10": (p2, d2, day1 + timedelta(hours=10)),
        "d1-day1-09": (p2, d1, day1 + timedelta(hours=9)),
        "d2-day2-15": (p1, d2, day2 + timedelta(hours=15)),
        "d2-day1-12-cancelled": (p2, d2, day1 + timedelta(hours=12)),
    }
    ids = {name: book(p.id, d.id, start).id for name, (p, d, start) in rows.items()}
    cancel(database, ids["d2-day1-12-cancelled"])
    return {"ids": ids, "p1": p1.id, "p2": p2.id, "d1": d1.id, "d2": d2.id, "day1": day1, "day2": day2}


START_ORDER = ["d1-day1-09", "d1-day1-10", "d2-day1-10", "d2-day1-12-cancelled", "d1-day2-09", "d2-day2-15"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, START_ORDER),
        ({"status": "booked"}, [n for n in START_ORDER if "cancelled" not in n]),
        ({"status": "cancelled"}, ["d2-day1-12-cancelled"]),
        ({"status": "completed"}, []),
        ({"doctor_id": "d1"}, ["d1-day1-09", "d1-day1-10", "d1-day2-09"]),
        ({"patient_id": "p1"}, ["d1-day1-10", "d1-day2-09", "d2-day2-15"]),
        ({"doctor_id": "d2", "patient_id": "p2"}, ["d2-day1-10", "d2-day1-12-cancelled"]),
        ({"doctor_id": "d2", "status": "booked"}, ["d2-day1-10", "d2-day2-15"]),
        ({"start_from": ("day2", 0)}, ["d1-day2-09", "d2-day2-15"]),
        ({"start_before": ("day2", 0)}, START_ORDER[:4]),
        ({"start_from": ("day1", 10), "start_before": ("day1", 12)}, ["d1-day1-10", "d2-day1-10"]),  # from inclusive
        ({"start_from": ("day1", 9), "start_before": ("day1", 10)}, ["d1-day1-09"]),  # before exclusive
        ({"start_from": ("day1", 10, 1)}, START_ORDER[3:]),
        (
            {"start_from": ("day1", 0), "start_before": ("day2", 0), "status": "booked", "doctor_id": "d1"},
            ["d1-day1-09", "d1-day1-10"],
        ),
    ],
)
def test_list_filters_in_start_order(database, schedule, where, expected):
    def resolve(key, value):
        if key in ("doctor_id", "patient_id"):
            return schedule[value]
        if key in ("start_from", "start_before"):
            day, hour, *minute = value
            return schedule[day] + timedelta(hours=hour, minutes=sum(minute))
        return value

    filters = {key: resolve(key, value) for key, value in where.items()}
    assert listed(database, **filters) == [schedule["ids"][name] for name in expected]


def test_list_filter_accepts_any_offset(database, schedule):
    """Filter bounds are instants: 06:00-04:00 is 10:00 UTC."""
    new_york = timezone(timedelta(hours=-4))
    found = listed(database, start_from=datetime(2030, 6, 11, 6, 0, tzinfo=new_york), start_before=schedule["day2"])
    assert found == [schedule["ids"][n] for n in ("d1-day1-10", "d2-day1-10", "d2-day1-12-cancelled")]


def test_list_limit_offset_and_total(database, schedule):
    ordered = [schedule["ids"][n] for n in START_ORDER]

    def page(where, limit, offset):
        def work(s):
            listing = services.list_appointments(s, where, limit, offset)
            return [a.id for a in listing], listing.total()

        return database.run(work, write=False)

    everything = AppointmentFilter()
    assert page(everything, 2, 0) == (ordered[:2], 6)
    assert page(everything, 2, 2) == (ordered[2:4], 6)
    assert page(everything, None, 4) == (ordered[4:], 6)
    assert page(everything, 10, 10) == ([], 6)
    booked_d2 = AppointmentFilter(doctor_id=schedule["d2"], status="booked")
    assert page(booked_d2, 1, 0) == ([schedule["ids"]["d2-day1-10"]], 2)


def test_list_is_empty_without_appointments(database):
    def work(s):
        listing = services.list_appointments(s, AppointmentFilter())
        return list(listing), listing.total()

    assert database.run(work, write=False) == ([], 0)
