"""The front desk's commands through CliRunner: doctor hours, time off, reschedule, outcomes, rule 9.

The clinic zone is America/New_York; 2031-03-03 is a Monday.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from encounter_cli.db import Database
from encounter_cli.services.common import stamp
from tests.helpers import error_json, json_out, settings_for


@pytest.fixture
def desk(cli):
    """Three patients and two doctors."""
    for n in (1, 2, 3):
        cli("patient", "add", "--first-name", f"P{n}", "--last-name", "T", "--email", f"p{n}@example.org")
    for n in (1, 2):
        cli("doctor", "add", "--full-name", f"Dr {n}", "--specialization", "General")
    return cli


def book(cli, start, patient=1, doctor=1, duration=30, *extra, expect=0):
    return cli(
        "appointment", "book", "--patient", str(patient), "--doctor", str(doctor), "--start", start,
        "--duration", str(duration), "-o", "json", *extra, expect=expect,
    )  # fmt: skip


# --- doctor hours -----------------------------------------------------------------------------------------------------


def test_hours_are_shown_set_and_cleared(desk):
    assert "no hours: bookable at any time" in desk("doctor", "hours", "1").stdout
    result = desk("doctor", "hours", "1", "--set", "mon-fri 09:00-12:30,13:30-17:00", "--set", "sat 09:00-12:00")
    assert result.stdout.splitlines() == [
        "doctor 1 (Dr 1): own hours",
        "mon-fri 09:00-12:30,13:30-17:00",
        "sat 09:00-12:00",
    ]
    assert "0 future booked appointment(s) fall outside these hours" in result.stderr
    shown = json_out(desk("doctor", "hours", "1", "-o", "json"))
    assert shown["source"] == "doctor" and shown["days"]["mon"] == ["09:00-12:30", "13:30-17:00"]
    assert "outside_hours" not in shown  # only a change counts
    cleared = json_out(desk("doctor", "hours", "1", "--clear", "-o", "json"))
    assert (cleared["source"], cleared["hours"], cleared["outside_hours"]) == ("none", [], 0)


def test_hours_mistakes(desk):
    error = error_json(desk("doctor", "hours", "1", "--set", "mon-fri 9-17", "-o", "json", expect=3))
    assert error["details"]["field"] == "hours" and '"9", not a time' in error["message"]
    assert "--clear" in desk("doctor", "hours", "1", "--set", "mon 09:00-10:00", "--clear", expect=2).stderr
    assert "use --clear" in desk("doctor", "hours", "1", "--set", "", expect=3).stderr
    desk("doctor", "hours", "9", expect=4)
    desk("doctor", "hours", "9", "--set", "mon 09:00-10:00", expect=4)


def test_setting_hours_counts_future_bookings_now_outside(desk):
    book(desk, "2031-03-03T08:00")
    book(desk, "2031-03-03T10:00", patient=2)
    result = desk("doctor", "hours", "1", "--set", "mon-fri 09:00-17:00", "-o", "json")
    assert json_out(result)["outside_hours"] == 1
    assert "1 future booked appointment(s) fall outside" in result.stderr
    assert json_out(desk("appointment", "show", "1", "-o", "json"))["status"] == "booked"  # kept


def test_bookings_outside_hours_are_conflicts(desk):
    desk("doctor", "hours", "1", "--set", "mon-fri 09:00-12:30,13:30-17:00")
    error = error_json(book(desk, "2031-03-03T12:15", expect=5))
    assert "does not work from 2031-03-03T12:15:00-05:00 to 2031-03-03T12:45:00-05:00" in error["message"]
    book(desk, "2031-03-03T12:00")
    book(desk, "2031-03-08T02:00", doctor=2)  # doctor 2 has no hours: any time


def test_clinic_hours_from_the_config_file(desk, tmp_path):
    config = tmp_path / "clinic.toml"
    config.write_text('[clinic]\nhours = "mon-fri 09:00-17:00; sat 09:00-12:00"\n')
    shown = json_out(desk("--config", str(config), "doctor", "hours", "2", "-o", "json"))
    assert shown["source"] == "clinic" and shown["hours"] == ["mon-fri 09:00-17:00", "sat 09:00-12:00"]
    desk("--config", str(config), "appointment", "book", "--patient", "1", "--doctor", "2", "--start",
         "2031-03-08T13:00", "--duration", "30", expect=5)  # fmt: skip
    config.write_text('[clinic]\nhours = "weekdays 9-5"\n')
    result = desk("--config", str(config), "doctor", "hours", "2", expect=6)
    assert f"config file {config}" in result.stderr and "weekdays" in result.stderr


# --- time off ---------------------------------------------------------------------------------------------------------


def test_time_off_is_added_listed_and_removed(desk):
    book(desk, "2031-03-03T23:00")
    added = desk("doctor", "time-off", "add", "1", "--from", "2031-03-03T22:00", "--to", "2031-03-04T06:00",
                 "--reason", "night [b]cover[/b]", "-o", "json")  # fmt: skip
    record = json_out(added)
    assert (record["id"], record["doctor_id"], record["reason"]) == (1, 1, "night [b]cover[/b]")
    assert record["start_time"] == "2031-03-03T22:00:00-05:00"
    assert "appointment 1 at 2031-03-03T23:00:00-05:00" in added.stderr  # to be moved
    error = error_json(book(desk, "2031-03-04T05:45", patient=2, expect=5))
    assert "is off from 2031-03-03T22:00:00-05:00 to 2031-03-04T06:00:00-05:00 (time off 1)" in error["message"]
    listed = desk("doctor", "time-off", "list", "1", "--from", "2031-03-04", "--to", "2031-03-05")
    assert "night [b]cover[/b]" in listed.stdout  # markup shown as typed
    assert [t["id"] for t in json_out(desk("doctor", "time-off", "list", "1", "-o", "json"))] == [1]
    assert "id,doctor_id,start_time,end_time,reason" in desk("doctor", "time-off", "list", "1", "-o", "csv").stdout
    assert json_out(desk("doctor", "time-off", "remove", "1", "-o", "json"))["id"] == 1
    desk("doctor", "time-off", "remove", "1", expect=4)
    book(desk, "2031-03-04T05:45", patient=2)


def test_time_off_mistakes(desk):
    desk("doctor", "time-off", "add", "9", "--from", "2031-03-03", "--to", "2031-03-04", expect=4)
    error = error_json(desk("doctor", "time-off", "add", "1", "--from", "2031-03-04", "--to", "2031-03-03",
                            "-o", "json", expect=3))  # fmt: skip
    assert error["details"]["field"] == "end_time"
    desk("doctor", "time-off", "add", "1", "--from", "soon", "--to", "2031-03-03", expect=3)
    desk("doctor", "time-off", "add", "1", "--from", "2031-03-03", expect=2)
    desk("doctor", "time-off", "list", "9", expect=4)


# --- rule 9, reschedule and outcomes ----------------------------------------------------------------------------------


def test_a_patient_with_two_doctors_at_once_needs_the_flag(desk):
    book(desk, "2031-03-03T10:00")
    error = error_json(book(desk, "2031-03-03T10:15", doctor=2, expect=5))
    assert error["details"] == {"field": "start_time", "patient_id": 1, "appointment_id": 1}
    assert "--allow-patient-overlap" in book(desk, "2031-03-03T10:15", doctor=2, expect=5).stderr
    assert json_out(book(desk, "2031-03-03T10:15", 1, 2, 30, "--allow-patient-overlap"))["id"] == 2


def test_reschedule_keeps_the_id_and_checks_every_rule(desk):
    book(desk, "2031-03-03T10:00", duration=60)
    book(desk, "2031-03-03T12:00", patient=2)
    moved = json_out(desk("appointment", "reschedule", "1", "--start", "2031-03-03T10:30", "-o", "json"))
    assert (moved["id"], moved["start_time"], moved["end_time"]) == (
        1, "2031-03-03T10:30:00-05:00", "2031-03-03T11:30:00-05:00"
    )  # fmt: skip
    error = error_json(desk("appointment", "reschedule", "1", "--start", "2031-03-03T11:45", "-o", "json", expect=5))
    assert error["details"]["appointment_id"] == 2
    desk("doctor", "deactivate", "2")
    desk("appointment", "reschedule", "1", "--start", "2031-03-04T10:00", "--doctor", "2", expect=5)
    desk("appointment", "reschedule", "1", "--start", "2031-03-04T10:00", "--doctor", "9", expect=4)
    desk("appointment", "reschedule", "1", "--start", "2031-03-04T10:00", "--duration", "10", expect=3)
    desk("appointment", "reschedule", "9", "--start", "2031-03-04T10:00", expect=4)
    desk("appointment", "reschedule", "1", expect=2)
    desk("doctor", "activate", "2")
    moved = json_out(desk("appointment", "reschedule", "1", "--start", "2031-03-04T10:00", "--doctor", "2",
                          "--duration", "45", "-o", "json"))  # fmt: skip
    assert (moved["doctor_id"], moved["duration_minutes"], moved["status"]) == (2, 45, "booked")


def test_outcomes_need_a_past_booked_appointment(desk):
    book(desk, "2031-03-03T10:00")
    error = error_json(desk("appointment", "complete", "1", "-o", "json", expect=5))
    assert "has not started yet" in error["message"]
    desk("appointment", "no-show", "1", expect=5)
    desk("appointment", "cancel", "1")
    assert "is cancelled" in desk("appointment", "complete", "1", expect=5).stderr
    desk("appointment", "no-show", "9", expect=4)


def test_outcomes_of_a_past_appointment(desk, db_url):
    """Booked yesterday (written behind the services' back: no command books the past), marked today."""
    database = Database(settings_for(db_url))
    start = stamp() - timedelta(days=1)
    values = {"doctor_id": 1, "duration_minutes": 30, "status": "booked", "created_at": start, "updated_at": start}
    with database.session(write=True) as session:
        for patient in (1, 2):
            session.add(database.models.Appointment(
                patient_id=patient, start_time=start, end_time=start + timedelta(minutes=30), **values
            ))  # fmt: skip
    database.dispose()
    assert json_out(desk("appointment", "complete", "1", "-o", "json"))["status"] == "completed"
    assert json_out(desk("appointment", "no-show", "2", "-o", "json"))["status"] == "no_show"
    assert (
        "is completed; only booked appointments can be marked no-show"
        in desk("appointment", "no-show", "1", expect=5).stderr
    )
    assert [a["status"] for a in json_out(desk("appointment", "list", "--from", "2020-01-01", "-o", "json"))] == [
        "completed",
        "no_show",
    ]
