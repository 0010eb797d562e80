"""Free slots and the day schedule on SQLite and MariaDB: hours with breaks, grid alignment, time off over
midnight, bookings and the past, daylight-saving days, specializations, errors, and a constant query count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from encounter_cli import schemas, services
from encounter_cli.clinic_time import day_bounds
from encounter_cli.domain import AppointmentStatus
from encounter_cli.errors import Conflict, InvalidInput, NotFound
from encounter_cli.services import schedule
from encounter_cli.working_hours import NO_HOURS, WeeklyHours, parse_hours
from tests.helpers import NOW, UTC

ZONE = ZoneInfo("America/New_York")
MONDAY = date(2030, 6, 17)  # a week after NOW (Monday 2030-06-10, 08:00 in New York)


def local(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def set_hours(database, doctor_id: int, *groups: str) -> None:
    database.run(lambda s: services.set_hours(s, doctor_id, parse_hours(groups), NO_HOURS, ZONE, now=NOW))


@pytest.fixture
def book(database):
    """Book through the schema and the service, with hours read in the clinic's zone."""

    def make(patient_id: int, doctor_id: int, start: datetime, duration: int = 30):
        values = {"patient_id": patient_id, "doctor_id": doctor_id, "start_time": start, "duration_minutes": duration}
        data = schemas.parse(schemas.AppointmentCreate, values)
        return database.run(lambda s: services.book_appointment(s, data, now=NOW, zone=ZONE))

    return make


def take_off(database, doctor_id: int, start: datetime, end: datetime, reason: str | None = None) -> int:
    added = database.run(lambda s: services.add_time_off(s, doctor_id, start, end, ZONE, reason, now=NOW))
    return int(added.time_off.id)


def slots(database, *, day: date | None = MONDAY, start=None, end=None, now=NOW, default=NO_HOURS, **search):
    if day is not None:
        start, end = day_bounds(day, ZONE)
    search = {"duration": 30, **search}
    return database.run(
        lambda s: schedule.free_slots(s, start=start, end=end, now=now, zone=ZONE, default_hours=default, **search),
        write=False,
    )


def clocks(found) -> list[str]:
    return [slot.start.astimezone(ZONE).strftime("%H:%M") for slot in found]


# --- free slots -------------------------------------------------------------------------------------------------------


def test_no_slot_straddles_a_break_in_the_hours(database, new_doctor):
    doctor = new_doctor()
    set_hours(database, doctor.id, "mon-fri 09:00-12:30,13:30-17:00")
    found = slots(database, doctor_id=doctor.id, duration=60)
    assert clocks(found) == [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30",
        "13:30", "13:45", "14:00", "14:15", "14:30", "14:45", "15:00", "15:15", "15:30", "15:45", "16:00",
    ]  # fmt: skip
    assert all(slot.end - slot.start == timedelta(minutes=60) for slot in found)
    assert {(slot.doctor_id, slot.doctor_name) for slot in found} == {(doctor.id, doctor.full_name)}


def test_starts_are_on_a_grid_from_each_intervals_start(database, new_doctor):
    doctor = new_doctor()
    set_hours(database, doctor.id, "mon 09:10-10:40,14:05-15:00")
    assert clocks(slots(database, doctor_id=doctor.id)) == [
        "09:10", "09:25", "09:40", "09:55", "10:10", "14:05", "14:20",
    ]  # fmt: skip
    assert clocks(slots(database, doctor_id=doctor.id, step=20)) == [
        "09:10",
        "09:30",
        "09:50",
        "10:10",
        "14:05",
        "14:25",
    ]


def test_time_off_over_midnight_hides_slots_on_both_days(database, new_doctor):
    doctor = new_doctor()
    set_hours(database, doctor.id, "mon-fri 09:00-17:00")
    take_off(database, doctor.id, local(MONDAY, "15:00"), local(MONDAY + timedelta(days=1), "10:00"))
    start, end = day_bounds(MONDAY, ZONE)[0], day_bounds(MONDAY + timedelta(days=1), ZONE)[1]
    found = slots(database, day=None, start=start, end=end, doctor_id=doctor.id, duration=60, step=60)
    shown = [slot.start.astimezone(ZONE).strftime("%a %H:%M") for slot in found]
    monday = ["Mon 09:00", "Mon 10:00", "Mon 11:00", "Mon 12:00", "Mon 13:00", "Mon 14:00"]
    assert shown == monday + ["Tue 10:00", "Tue 11:00", "Tue 12:00", "Tue 13:00", "Tue 14:00", "Tue 15:00", "Tue 16:00"]


def test_booked_slots_and_the_past_are_not_offered(database, pair, book):
    patient, doctor = pair
    set_hours(database, doctor.id, "mon-fri 09:00-12:00")
    book(patient.id, doctor.id, local(MONDAY, "10:00"), duration=45)
    cancelled = book(patient.id, doctor.id, local(MONDAY, "11:00"), duration=30)
    database.run(lambda s: services.cancel_appointment(s, cancelled.id, now=NOW))  # frees its slot
    assert clocks(slots(database, doctor_id=doctor.id)) == [
        "09:00", "09:15", "09:30", "10:45", "11:00", "11:15", "11:30",
    ]  # fmt: skip
    assert clocks(slots(database, doctor_id=doctor.id, now=local(MONDAY, "11:00"))) == [
        "11:15",
        "11:30",
    ]  # strictly after
    assert clocks(slots(database, doctor_id=doctor.id, now=local(MONDAY, "11:01"))) == ["11:15", "11:30"]


@pytest.mark.parametrize(("day", "offset"), [(date(2031, 3, 9), "-04:00"), (date(2031, 11, 2), "-05:00")])
def test_a_sunday_nine_oclock_start_is_nine_on_both_change_days(database, new_doctor, day, offset):
    doctor = new_doctor()
    set_hours(database, doctor.id, "sun 09:00-12:00")
    found = slots(database, day=day, doctor_id=doctor.id, duration=60, step=60)
    assert [slot.start.astimezone(ZONE).isoformat() for slot in found] == [
        f"{day}T09:00:00{offset}",
        f"{day}T10:00:00{offset}",
        f"{day}T11:00:00{offset}",
    ]


def test_steps_are_real_minutes_across_a_spring_forward_gap(database, new_doctor):
    doctor = new_doctor()
    set_hours(database, doctor.id, "sun 01:00-04:00")  # 02:00-03:00 does not exist on 2031-03-09: two real hours
    found = slots(database, day=date(2031, 3, 9), doctor_id=doctor.id, duration=60, step=60)
    assert [slot.start.astimezone(ZONE).strftime("%H:%M%z") for slot in found] == ["01:00-0500", "03:00-0400"]


def test_a_specialization_offers_its_active_doctors_with_hours_in_time_order(database, new_doctor):
    early = new_doctor(specialization="Cardiology")
    late = new_doctor(specialization="Paediatric cardiology")
    new_doctor(specialization="Cardiology")  # no hours (and no default): skipped
    away = new_doctor(specialization="cardiology", is_active=False)
    other = new_doctor(specialization="Dermatology")
    set_hours(database, early.id, "mon 09:00-10:00")
    set_hours(database, late.id, "mon 09:30-10:30")
    for doctor in (away, other):
        set_hours(database, doctor.id, "mon 09:00-17:00")
    found = slots(database, specialization="CARDIO", duration=30, step=30)
    assert [(clock, slot.doctor_id) for clock, slot in zip(clocks(found), found, strict=True)] == [
        ("09:00", early.id), ("09:30", early.id), ("09:30", late.id), ("10:00", late.id)
    ]  # fmt: skip
    assert clocks(slots(database, specialization="cardio", duration=30, step=30, limit=3)) == [
        "09:00",
        "09:30",
        "09:30",
    ]


def test_doctors_without_hours_of_their_own_use_the_clinics(database, new_doctor):
    doctor = new_doctor()
    clinic: WeeklyHours = parse_hours(["mon 16:00-17:00"])
    assert clocks(slots(database, doctor_id=doctor.id, default=clinic)) == ["16:00", "16:15", "16:30"]
    set_hours(database, doctor.id, "mon 08:00-08:30")  # their own replace the clinic's
    assert clocks(slots(database, doctor_id=doctor.id, default=clinic)) == ["08:00"]


def test_a_range_keeps_slots_wholly_inside_it(database, new_doctor):
    doctor = new_doctor()
    set_hours(database, doctor.id, "mon-fri 09:00-17:00")
    found = slots(database, day=None, start=local(MONDAY, "10:05"), end=local(MONDAY, "11:30"), doctor_id=doctor.id)
    assert clocks(found) == ["10:15", "10:30", "10:45", "11:00"]


def test_the_range_options_mean_a_day_or_a_span_by_default_seven_clinic_days(database):
    assert schedule.slot_range(ZONE, now=NOW, day=MONDAY) == day_bounds(MONDAY, ZONE)
    assert schedule.slot_range(ZONE, now=NOW) == (NOW, day_bounds(date(2030, 6, 17), ZONE)[0])
    start = local(MONDAY, "13:00")
    assert schedule.slot_range(ZONE, now=NOW, start_from=start) == (start, day_bounds(date(2030, 6, 24), ZONE)[0])
    with pytest.raises(InvalidInput, match="is later than to"):
        schedule.slot_range(ZONE, now=NOW, start_before=NOW - timedelta(days=1))


@pytest.mark.parametrize(
    ("search", "error", "field", "words"),
    [
        ({"doctor_id": 99}, NotFound, "doctor_id", "doctor 99 does not exist"),
        ({"specialization": "neuro"}, NotFound, "specialization", '"neuro" matches no active doctor'),
        ({"specialization": "Retired"}, NotFound, "specialization", "matches no active doctor"),
        ({"doctor_id": 2}, Conflict, "doctor_id", "doctor 2 is inactive"),
        ({"doctor_id": 3}, InvalidInput, "doctor_id", "has no working hours"),
        ({"specialization": "general"}, InvalidInput, "specialization", "no active doctor with working hours"),
        ({"doctor_id": 1, "specialization": "x"}, InvalidInput, "doctor_id", "give either doctor_id or specialization"),
        ({}, InvalidInput, "doctor_id", "give either"),
        ({"doctor_id": 1, "duration": 10}, InvalidInput, "duration", "must be between 15 and 180 minutes"),
        ({"doctor_id": 1, "step": 4}, InvalidInput, "step", "must be between 5 and 180 minutes"),
        ({"doctor_id": 1, "step": 181}, InvalidInput, "step", "must be between 5 and 180 minutes"),
    ],
)
def test_searches_that_cannot_be_answered(database, new_doctor, search, error, field, words):
    set_hours(database, new_doctor(specialization="Cardiology").id, "mon 09:00-10:00")
    set_hours(database, new_doctor(specialization="Retired", is_active=False).id, "mon 09:00-10:00")
    new_doctor(specialization="General")  # no hours
    with pytest.raises(error, match=words) as raised:
        slots(database, **search)
    assert raised.value.details["field"] == field


def test_a_range_over_31_days_is_invalid(database, new_doctor):
    doctor = new_doctor()
    start = local(MONDAY, "00:00")
    slots(
        database,
        day=None,
        start=start,
        end=start + timedelta(days=31),
        doctor_id=doctor.id,
        default=parse_hours(["mon 09:00-10:00"]),
    )
    with pytest.raises(InvalidInput, match="is more than 31 days after from") as raised:
        slots(database, day=None, start=start, end=start + timedelta(days=31, minutes=1), doctor_id=doctor.id)
    assert raised.value.details["field"] == "to"


@contextmanager
def counted_selects(database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_a_search_costs_the_same_queries_for_a_day_or_two_weeks(database, new_patient, new_doctor, book):
    doctors = [new_doctor(specialization="Cardiology") for _ in range(3)]
    patient = new_patient()
    for n, doctor in enumerate(doctors):
        set_hours(database, doctor.id, "mon-fri 09:00-12:00,13:00-17:00")
        for day in (MONDAY + timedelta(days=n) for n in range(14)):
            if day.weekday() < 5:
                book(patient.id, doctor.id, local(day, f"{9 + n}:00"))
        off = MONDAY + timedelta(days=n + 1)
        take_off(database, doctor.id, local(off, "09:00"), local(off, "12:00"))
    start = local(MONDAY, "00:00")
    counts = []
    for days in (1, 14):
        with counted_selects(database) as seen:
            found = slots(database, day=None, start=start, end=start + timedelta(days=days), specialization="cardio")
        counts.append(len(seen))
        assert found
    assert counts == [4, 4]  # doctors, hours, time off, appointments
    with counted_selects(database) as seen:
        slots(database, doctor_id=doctors[0].id)
    assert len(seen) == 4


# --- the day schedule -------------------------------------------------------------------------------------------------


def day_of(database, day=MONDAY, default=NO_HOURS, **which):
    return database.run(lambda s: schedule.day_schedule(s, day, ZONE, default_hours=default, **which), write=False)


def test_a_doctors_day_has_hours_time_off_visits_with_names_and_free_time(database, new_patient, new_doctor, book):
    doctor = new_doctor()
    ada = new_patient(first_name="Ada", last_name="Lovelace")
    bob = new_patient(first_name="Bob", last_name="[bold]Stone[/]")
    set_hours(database, doctor.id, "mon 09:00-12:00,13:00-15:00")
    off = take_off(database, doctor.id, local(MONDAY, "11:00"), local(MONDAY, "13:30"), "dentist")
    first = book(ada.id, doctor.id, local(MONDAY, "09:30"), duration=30)
    cancelled = book(bob.id, doctor.id, local(MONDAY, "10:00"), duration=30)
    database.run(lambda s: services.cancel_appointment(s, cancelled.id, now=NOW))
    done = book(bob.id, doctor.id, local(MONDAY, "14:00"), duration=15)
    database.run(lambda s: services.record_outcome(s, done.id, AppointmentStatus.completed,
                                                   now=local(MONDAY, "16:00")))  # fmt: skip
    [day] = day_of(database).doctors
    assert day.hours == [
        (local(MONDAY, "09:00"), local(MONDAY, "12:00")),
        (local(MONDAY, "13:00"), local(MONDAY, "15:00")),
    ]
    assert [(t.id, t.reason) for t in day.time_off] == [(off, "dentist")]
    assert [(v.id, v.patient_name, v.status) for v in day.visits] == [
        (first.id, "Ada Lovelace", "booked"), (done.id, "Bob [bold]Stone[/]", "completed")
    ]  # fmt: skip
    assert day.free == [
        (local(MONDAY, "09:00"), local(MONDAY, "09:30")),
        (local(MONDAY, "10:00"), local(MONDAY, "11:00")),
        (local(MONDAY, "13:30"), local(MONDAY, "14:00")),
        (local(MONDAY, "14:15"), local(MONDAY, "15:00")),
    ]


def test_by_default_the_day_shows_who_works_or_has_appointments(database, new_patient, new_doctor, book):
    working, resting, gone, booked_away, idle = (new_doctor() for _ in range(5))
    set_hours(database, working.id, "mon 09:00-12:00")
    set_hours(database, resting.id, "tue 09:00-12:00")
    set_hours(database, gone.id, "mon 09:00-12:00")
    book(new_patient().id, booked_away.id, local(MONDAY, "20:00"))  # no hours: bookable any time
    book(new_patient().id, gone.id, local(MONDAY, "09:00"))
    database.run(lambda s: services.set_doctor_active(s, gone.id, False, now=NOW))
    # An inactive doctor's bookings still show; a doctor with neither hours nor bookings does not.
    assert [d.id for d in day_of(database).doctors] == [working.id, gone.id, booked_away.id]
    clinic = parse_hours(["mon-fri 08:00-09:00"])  # doctors without hours of their own now work on Mondays
    assert [d.id for d in day_of(database, default=clinic).doctors] == [working.id, gone.id, booked_away.id, idle.id]
    assert [d.id for d in day_of(database, day=MONDAY + timedelta(days=1)).doctors] == [resting.id]
    assert day_of(database, day=MONDAY - timedelta(days=1)).doctors == []


def test_named_doctors_show_in_the_order_given_and_an_unknown_one_is_404(database, new_doctor):
    first, second = new_doctor(), new_doctor(specialization="Cardiology")
    assert [d.id for d in day_of(database, doctor_ids=[second.id, first.id, second.id]).doctors] == [
        second.id,
        first.id,
    ]
    assert [d.id for d in day_of(database, specialization="cardio").doctors] == [second.id]
    with pytest.raises(NotFound, match="doctor 9 does not exist"):
        day_of(database, doctor_ids=[first.id, 9])
    with pytest.raises(NotFound, match="matches no active doctor"):
        day_of(database, specialization="neuro")
    with pytest.raises(InvalidInput, match="give either"):
        day_of(database, doctor_ids=[first.id], specialization="cardio")


def test_the_day_costs_four_queries_whatever_the_number_of_doctors(database, new_patient, new_doctor, book):
    patient = new_patient()
    for n in range(5):
        doctor = new_doctor()
        set_hours(database, doctor.id, "mon 09:00-17:00")
        book(patient.id, doctor.id, local(MONDAY, f"{9 + n}:00"))
        take_off(database, doctor.id, local(MONDAY, "16:00"), local(MONDAY, "17:00"))
    with counted_selects(database) as seen:
        assert len(day_of(database).doctors) == 5
    assert len(seen) == 4
