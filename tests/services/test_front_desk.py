"""The front desk's rules on SQLite and MariaDB: working hours, time off, rule 9, reschedule, outcomes.

Clinic zone America/New_York; 2031-03-03 is a Monday; NOW is 2030-06-10 12:00 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import schemas, services
from encounter_cli.domain import AppointmentStatus
from encounter_cli.errors import Conflict, InvalidInput, NotFound
from encounter_cli.working_hours import NO_HOURS, parse_hours
from tests.helpers import NOW, UTC, fetch

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = parse_hours(["mon-fri 09:00-12:30,13:30-17:00"])


def local(text: str) -> datetime:
    """A New York wall time as UTC: "2031-03-03 09:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def book(database, patient, doctor, start, duration=30, *, hours=NO_HOURS, overlap=False, now=NOW):
    values = {"patient_id": patient, "doctor_id": doctor, "start_time": local(start), "duration_minutes": duration}
    data = schemas.parse(schemas.AppointmentCreate, values)
    return database.run(
        lambda s: services.book_appointment(
            s, data, now=now, zone=NEW_YORK, default_hours=hours, allow_patient_overlap=overlap
        )
    )


def set_hours(database, doctor, texts, default=NO_HOURS, now=NOW):
    week = parse_hours(texts) if texts is not None else None
    return database.run(lambda s: services.set_hours(s, doctor, week, default, NEW_YORK, now=now))


def reschedule(database, appointment, start, *, duration=None, doctor=None, hours=NO_HOURS, overlap=False, now=NOW):
    change = schemas.parse(
        schemas.Reschedule, {"start_time": local(start), "duration_minutes": duration, "doctor_id": doctor}
    )
    return database.run(
        lambda s: services.reschedule_appointment(
            s, appointment, change, now=now, zone=NEW_YORK, default_hours=hours, allow_patient_overlap=overlap
        )
    )


def add_time_off(database, doctor, start, end, reason=None):
    return database.run(lambda s: services.add_time_off(s, doctor, local(start), local(end), NEW_YORK, reason, NOW))


def outcome(database, appointment, status, now):
    return database.run(lambda s: services.record_outcome(s, appointment, status, now=now))


# --- working hours ------------------------------------------------------------------------------


def test_bookings_must_lie_inside_one_working_interval(database, pair):
    patient, doctor = pair
    set_hours(database, doctor.id, ["mon-fri 09:00-12:30,13:30-17:00"])
    book(database, patient.id, doctor.id, "2031-03-03 09:00")
    book(database, patient.id, doctor.id, "2031-03-03 12:00")  # ends 12:30, at the break
    for start, duration in [("2031-03-03 08:45", 30), ("2031-03-03 12:15", 30), ("2031-03-03 16:45", 30)]:
        with pytest.raises(Conflict, match="does not work from .* \\(outside working hours\\)") as caught:
            book(database, patient.id, doctor.id, start, duration)
        assert caught.value.details["doctor_id"] == doctor.id
    with pytest.raises(Conflict, match="outside working hours"):
        book(database, patient.id, doctor.id, "2031-03-08 10:00")  # Saturday


def test_clinic_default_applies_to_doctors_without_their_own(database, new_patient, new_doctor):
    patient, own, other = new_patient(), new_doctor(), new_doctor()
    set_hours(database, own.id, ["mon 07:00-08:00"])
    with pytest.raises(Conflict, match="outside working hours"):
        book(database, patient.id, other.id, "2031-03-03 07:00", hours=WEEKDAYS)
    book(database, patient.id, own.id, "2031-03-03 07:00", hours=WEEKDAYS)  # own hours win over the default
    book(database, patient.id, other.id, "2031-03-03 10:00", hours=WEEKDAYS)


def test_a_doctor_with_no_hours_at_all_is_bookable_at_any_time(database, pair):
    patient, doctor = pair
    book(database, patient.id, doctor.id, "2031-03-08 02:15")  # a Saturday night


@pytest.mark.parametrize("sunday", ["2031-03-09", "2031-11-02"])  # spring forward, fall back
def test_sunday_hours_hold_at_their_wall_time_on_daylight_saving_days(database, pair, sunday):
    patient, doctor = pair
    set_hours(database, doctor.id, ["sun 09:00-12:00"])
    first = book(database, patient.id, doctor.id, f"{sunday} 09:00")
    assert first.start_time.astimezone(NEW_YORK).strftime("%H:%M") == "09:00"
    book(database, patient.id, doctor.id, f"{sunday} 11:30")
    with pytest.raises(Conflict, match="outside working hours"):
        book(database, patient.id, doctor.id, f"{sunday} 08:30")
    with pytest.raises(Conflict, match="outside working hours"):
        book(database, patient.id, doctor.id, f"{sunday} 11:45")


def test_setting_hours_keeps_bookings_and_counts_those_now_outside(database, pair, new_patient):
    patient, doctor = pair
    inside = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    outside = book(database, new_patient().id, doctor.id, "2031-03-03 18:00")
    past = book(database, new_patient().id, doctor.id, "2030-06-11 03:00", now=NOW - timedelta(days=30))
    report = set_hours(database, doctor.id, ["mon-fri 09:00-17:00"], now=NOW + timedelta(days=2))
    assert (report.source, report.outside) == ("doctor", 1)
    assert [fetch(database, "Appointment", a.id).status for a in (inside, outside, past)] == ["booked"] * 3
    cleared = set_hours(database, doctor.id, None, default=WEEKDAYS, now=NOW + timedelta(days=2))
    assert (cleared.source, cleared.week, cleared.outside) == ("clinic", WEEKDAYS, 1)
    assert database.run(lambda s: services.get_hours(s, doctor.id, NO_HOURS), write=False).source == "none"


def test_an_interval_ending_at_midnight_is_stored_and_bookable_to_its_end(database, pair):
    patient, doctor = pair
    set_hours(database, doctor.id, ["mon 20:00-24:00"])
    stored = database.run(lambda s: services.get_hours(s, doctor.id, NO_HOURS), write=False)
    assert stored.week[0] == ((20 * 60, 24 * 60),)
    book(database, patient.id, doctor.id, "2031-03-03 23:45", 15)
    with pytest.raises(Conflict, match="outside working hours"):
        book(database, patient.id, doctor.id, "2031-03-03 23:45", 30)


def test_empty_hours_are_refused_not_taken_for_a_clear(database, pair):
    _, doctor = pair
    set_hours(database, doctor.id, ["mon 09:00-10:00"])
    for empty in ([""], [" ; "]):
        with pytest.raises(InvalidInput, match="gives no working hours"):
            set_hours(database, doctor.id, empty)
    assert database.run(lambda s: services.get_hours(s, doctor.id, NO_HOURS), write=False).source == "doctor"


def test_hours_of_an_unknown_doctor_are_not_found(database):
    with pytest.raises(NotFound):
        set_hours(database, 999, ["mon 09:00-10:00"])
    with pytest.raises(NotFound):
        database.run(lambda s: services.get_hours(s, 999, NO_HOURS), write=False)


# --- time off ---------------------------------------------------------------------------------------------------------


def test_time_off_spanning_midnight_blocks_both_days(database, pair):
    patient, doctor = pair
    off = add_time_off(database, doctor.id, "2031-03-03 22:00", "2031-03-04 06:00", "night cover").time_off
    for start in ("2031-03-03 21:45", "2031-03-03 23:30", "2031-03-04 05:45"):
        with pytest.raises(Conflict, match=f"is off from .* \\(time off {off.id}\\)"):
            book(database, patient.id, doctor.id, start)
    book(database, patient.id, doctor.id, "2031-03-03 21:30")  # ends as the time off starts
    book(database, patient.id, doctor.id, "2031-03-04 06:00")  # starts as it ends


def test_adding_time_off_over_bookings_succeeds_and_lists_the_future_ones(database, pair, new_patient):
    patient, doctor = pair
    inside = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    book(database, new_patient().id, doctor.id, "2031-03-05 10:00")
    started = book(database, new_patient().id, doctor.id, "2030-06-10 07:30", now=NOW - timedelta(days=1))
    added = add_time_off(database, doctor.id, "2030-06-10 00:00", "2031-03-04 00:00")
    assert [a.id for a in added.booked] == [inside.id]  # not `started`: it cannot be moved any more
    assert fetch(database, "Appointment", started.id).status == "booked"
    assert fetch(database, "Appointment", inside.id).status == "booked"


def test_time_off_must_end_after_it_starts(database, pair):
    _, doctor = pair
    with pytest.raises(InvalidInput, match="end_time: .* must be later than start_time"):
        add_time_off(database, doctor.id, "2031-03-03 10:00", "2031-03-03 10:00")


def test_time_off_lists_and_removes(database, pair):
    _, doctor = pair
    first = add_time_off(database, doctor.id, "2031-03-03 00:00", "2031-03-04 00:00").time_off
    second = add_time_off(database, doctor.id, "2031-04-01 00:00", "2031-04-02 00:00").time_off

    def listed(start=None, end=None):
        return database.run(
            lambda s: [t.id for t in services.list_time_off(s, doctor.id, start, end, NEW_YORK, now=NOW)], write=False
        )

    assert listed() == [first.id, second.id]
    assert listed(local("2031-03-03 12:00"), local("2031-03-10 00:00")) == [first.id]  # reaching into the range
    removed = database.run(lambda s: services.remove_time_off(s, first.id))
    assert removed.id == first.id and listed() == [second.id]
    with pytest.raises(NotFound, match=f"time off {first.id} does not exist"):
        database.run(lambda s: services.remove_time_off(s, first.id))


# --- rule 9: a patient is in one place at a time ---------------------------------------------------------------------


def test_a_patient_cannot_be_booked_with_two_doctors_at_once(database, new_patient, new_doctor):
    patient, first, second = new_patient(), new_doctor(), new_doctor()
    held = book(database, patient.id, first.id, "2031-03-03 10:00", 60)
    with pytest.raises(Conflict, match=f"patient {patient.id} is already booked from .* \\(appointment {held.id}\\)"):
        book(database, patient.id, second.id, "2031-03-03 10:30")
    book(database, patient.id, second.id, "2031-03-03 11:00")  # back to back
    book(database, patient.id, second.id, "2031-03-03 10:15", overlap=True)  # the flag waives the rule
    book(database, new_patient().id, second.id, "2031-03-03 12:00")


def test_a_cancelled_appointment_does_not_hold_the_patient(database, new_patient, new_doctor):
    patient, first, second = new_patient(), new_doctor(), new_doctor()
    held = book(database, patient.id, first.id, "2031-03-03 10:00")
    database.run(lambda s: services.cancel_appointment(s, held.id, now=NOW))
    book(database, patient.id, second.id, "2031-03-03 10:00")


# --- reschedule -------------------------------------------------------------------------------------------------------


def test_reschedule_onto_its_own_slot_is_allowed(database, pair):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00", 60)
    moved = reschedule(database, appointment.id, "2031-03-03 10:30")  # overlaps only itself
    assert moved.id == appointment.id and moved.start_time == local("2031-03-03 10:30")
    assert moved.end_time == local("2031-03-03 11:30") and moved.duration_minutes == 60


def test_reschedule_onto_another_appointment_is_a_conflict_and_changes_nothing(database, pair, new_patient):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    other = book(database, new_patient().id, doctor.id, "2031-03-03 11:00")
    with pytest.raises(Conflict, match=f"\\(appointment {other.id}\\)"):
        reschedule(database, appointment.id, "2031-03-03 11:15")
    assert fetch(database, "Appointment", appointment.id).start_time == local("2031-03-03 10:00")


def test_reschedule_to_another_doctor_checks_that_doctor(database, pair, new_doctor, new_patient):
    patient, doctor = pair
    other, inactive = new_doctor(), new_doctor(is_active=False)
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    with pytest.raises(Conflict, match=f"doctor {inactive.id} is inactive"):
        reschedule(database, appointment.id, "2031-03-03 10:00", doctor=inactive.id)
    with pytest.raises(NotFound, match="doctor 999 does not exist"):
        reschedule(database, appointment.id, "2031-03-03 10:00", doctor=999)
    taken = book(database, new_patient().id, other.id, "2031-03-03 12:00")
    with pytest.raises(Conflict, match=f"\\(appointment {taken.id}\\)"):
        reschedule(database, appointment.id, "2031-03-03 12:00", doctor=other.id)
    moved = reschedule(database, appointment.id, "2031-03-03 10:00", doctor=other.id, duration=45)
    assert (moved.doctor_id, moved.duration_minutes) == (other.id, 45)
    book(database, new_patient().id, doctor.id, "2031-03-03 10:00")  # the old slot is free


def test_reschedule_checks_hours_time_off_future_and_the_patient(database, pair, new_doctor, new_patient):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    with pytest.raises(Conflict, match="outside working hours"):
        reschedule(database, appointment.id, "2031-03-03 08:00", hours=WEEKDAYS)
    add_time_off(database, doctor.id, "2031-03-04 00:00", "2031-03-05 00:00")
    with pytest.raises(Conflict, match="is off from"):
        reschedule(database, appointment.id, "2031-03-04 10:00")
    with pytest.raises(InvalidInput, match="must be in the future"):
        reschedule(database, appointment.id, "2030-06-10 07:00")
    busy = book(database, patient.id, new_doctor().id, "2031-03-06 10:00")
    with pytest.raises(Conflict, match=f"patient {patient.id} is already booked .* \\(appointment {busy.id}\\)"):
        reschedule(database, appointment.id, "2031-03-06 10:00")
    reschedule(database, appointment.id, "2031-03-06 10:00", overlap=True)


def test_only_future_booked_appointments_can_be_rescheduled(database, pair):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    with pytest.raises(Conflict, match="has already started; past appointments cannot be rescheduled"):
        reschedule(database, appointment.id, "2031-03-05 10:00", now=local("2031-03-03 10:05"))
    database.run(lambda s: services.cancel_appointment(s, appointment.id, now=NOW))
    with pytest.raises(Conflict, match="is cancelled; only booked appointments can be rescheduled"):
        reschedule(database, appointment.id, "2031-03-05 10:00")
    with pytest.raises(NotFound):
        reschedule(database, 999, "2031-03-05 10:00")


# --- outcomes ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AppointmentStatus.completed, AppointmentStatus.no_show])
def test_an_outcome_is_recorded_once_the_start_has_passed(database, pair, status):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    shown = status.value.replace("_", "-")
    with pytest.raises(Conflict, match=f"has not started yet; only past appointments can be marked {shown}"):
        outcome(database, appointment.id, status, now=local("2031-03-03 09:59"))
    done = outcome(database, appointment.id, status, now=local("2031-03-03 10:00"))
    assert fetch(database, "Appointment", appointment.id).status == done.status == status.value
    with pytest.raises(Conflict, match=f"is {status.value}; only booked appointments can be marked"):
        outcome(database, appointment.id, AppointmentStatus.completed, now=local("2031-03-03 11:00"))


def test_a_cancelled_appointment_gets_no_outcome(database, pair):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    database.run(lambda s: services.cancel_appointment(s, appointment.id, now=NOW))
    with pytest.raises(Conflict, match="is cancelled; only booked appointments can be marked completed"):
        outcome(database, appointment.id, AppointmentStatus.completed, now=local("2031-03-04 10:00"))
    with pytest.raises(NotFound):
        outcome(database, 999, AppointmentStatus.no_show, now=NOW)


def test_a_completed_appointment_cannot_be_cancelled(database, pair):
    patient, doctor = pair
    appointment = book(database, patient.id, doctor.id, "2031-03-03 10:00")
    outcome(database, appointment.id, AppointmentStatus.completed, now=local("2031-03-03 10:30"))
    with pytest.raises(Conflict, match="is completed; only booked appointments can be cancelled"):
        database.run(lambda s: services.cancel_appointment(s, appointment.id, now=NOW))
