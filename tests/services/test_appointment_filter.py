"""What an appointment list request means, decided once in the service for every front end."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from encounter_cli.domain import AppointmentStatus
from encounter_cli.services import AppointmentFilter, appointment_filter

NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


def test_no_condition_means_booked_from_the_start_of_the_clinic_day():
    late_evening = datetime(2030, 6, 11, 2, 30, tzinfo=UTC)  # still 2030-06-10 in New York
    assert appointment_filter(NEW_YORK, now=late_evening) == AppointmentFilter(
        start_from=datetime(2030, 6, 10, 4, 0, tzinfo=UTC), status=AppointmentStatus.booked
    )


def test_any_condition_replaces_the_default():
    assert appointment_filter(NEW_YORK, doctor_id=3) == AppointmentFilter(doctor_id=3)


def test_a_day_is_its_clinic_midnights_even_across_a_daylight_saving_change():
    where = appointment_filter(NEW_YORK, day=date(2030, 3, 10))  # 23 hours long
    assert (where.start_from, where.start_before) == (
        datetime(2030, 3, 10, 5, 0, tzinfo=UTC),
        datetime(2030, 3, 11, 4, 0, tzinfo=UTC),
    )


def test_a_day_narrows_from_and_to():
    noon = datetime(2030, 6, 10, 16, 0, tzinfo=UTC)
    where = appointment_filter(NEW_YORK, day=date(2030, 6, 10), start_from=noon)
    assert (where.start_from, where.start_before) == (noon, datetime(2030, 6, 11, 4, 0, tzinfo=UTC))
    earlier = datetime(2030, 6, 1, tzinfo=UTC)
    where = appointment_filter(NEW_YORK, day=date(2030, 6, 10), start_from=earlier, start_before=noon)
    assert (where.start_from, where.start_before) == (datetime(2030, 6, 10, 4, 0, tzinfo=UTC), noon)
