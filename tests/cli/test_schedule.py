"""`encounter appointment slots` and `encounter schedule` through CliRunner: output formats, exit codes,
daylight-saving days, and a grid that reads at 80 columns."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from encounter_cli import services
from encounter_cli.cli import day_grid
from encounter_cli.db import Database
from encounter_cli.domain import AppointmentStatus
from encounter_cli.services import schedule
from encounter_cli.working_hours import NO_HOURS, parse_hours
from tests.helpers import CLINIC_ZONE, error_json, json_out, settings_for

ZONE = ZoneInfo(CLINIC_ZONE)
MONDAY = "2031-01-06"


@pytest.fixture
def hours(db_url):
    """`hours(doctor_id, "mon-fri 09:00-17:00", ...)`: set a doctor's working hours in the database."""
    database = Database(settings_for(db_url))

    def set_hours(doctor_id: int, *groups: str) -> None:
        database.run(lambda s: services.set_hours(s, doctor_id, parse_hours(groups), NO_HOURS, ZONE))

    yield set_hours
    database.dispose()


@pytest.fixture
def clinic(cli, hours):
    """Patients Ada and Bob; doctors 1 and 2 (cardiology, working), 3 (cardiology, inactive), 4 (no hours)."""
    cli("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.org")
    cli("patient", "add", "--first-name", "Bob", "--last-name", "[bold]Stone[/]", "--email", "bob@example.org")
    for name, specialization in [("Gregory House", "Cardiology"), ("Lisa Cuddy", "Paediatric cardiology"),
                                 ("Old Timer", "Cardiology"), ("No Hours", "Dermatology")]:  # fmt: skip
        cli("doctor", "add", "--full-name", name, "--specialization", specialization)
    hours(1, "mon-fri 09:00-12:30,13:30-17:00", "sun 09:00-12:00")
    hours(2, "mon 09:10-11:00")
    hours(3, "mon-fri 09:00-17:00")
    cli("doctor", "deactivate", "3")
    return cli


def slots(cli, *args: str, expect: int = 0):
    return cli("appointment", "slots", *args, expect=expect)


def test_slots_of_a_doctor_skip_the_break_and_bookings(clinic):
    clinic("appointment", "book", "--patient", "1", "--doctor", "1", "--start", f"{MONDAY}T10:00", "--duration", "60")
    found = json_out(slots(clinic, "--doctor", "1", "--duration", "60", "--date", MONDAY, "--step", "30", "-o", "json"))
    assert [slot["start_time"][11:16] for slot in found] == [
        "09:00", "11:00", "11:30", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00",
    ]  # fmt: skip
    assert found[0] == {"doctor_id": 1, "doctor_name": "Gregory House", "start_time": f"{MONDAY}T09:00:00-05:00",
                        "end_time": f"{MONDAY}T10:00:00-05:00"}  # fmt: skip


def test_a_specialization_interleaves_its_doctors_in_time_order(clinic):
    result = slots(
        clinic, "--specialization", "CARDIO", "--duration", "30", "--date", MONDAY, "--limit", "4", "-o", "csv"
    )
    assert result.stdout.splitlines() == [
        "doctor_id,doctor_name,start_time,end_time",
        f"1,Gregory House,{MONDAY}T09:00:00-05:00,{MONDAY}T09:30:00-05:00",
        f"2,Lisa Cuddy,{MONDAY}T09:10:00-05:00,{MONDAY}T09:40:00-05:00",  # aligned to 09:10, the start of the hours
        f"1,Gregory House,{MONDAY}T09:15:00-05:00,{MONDAY}T09:45:00-05:00",
        f"2,Lisa Cuddy,{MONDAY}T09:25:00-05:00,{MONDAY}T09:55:00-05:00",
    ]


def test_the_slots_table_names_the_zone_and_says_when_more_are_left_out(clinic):
    result = slots(clinic, "--doctor", "2", "--duration", "30", "--date", MONDAY, "--limit", "2")
    lines = result.stdout.splitlines()
    assert lines[0] == "Free 30-minute slots (America/New_York): 2"
    assert sum("Lisa Cuddy" in line for line in lines) == 2 and "2031-01-06 09:25" in result.stdout
    assert "more free slots not shown" in result.stderr
    everything = slots(clinic, "--doctor", "2", "--duration", "30", "--date", MONDAY)
    assert everything.stdout.splitlines()[0].endswith(": 6") and everything.stderr == ""


@pytest.mark.parametrize(("day", "offset"), [("2031-03-09", "-04:00"), ("2031-11-02", "-05:00")])
def test_a_sunday_nine_oclock_start_on_both_change_days(clinic, day, offset):
    found = json_out(slots(clinic, "--doctor", "1", "--duration", "60", "--date", day, "--step", "60", "-o", "json"))
    assert [slot["start_time"] for slot in found] == [f"{day}T{h}:00:00{offset}" for h in ("09", "10", "11")]


def test_a_range_with_from_and_to(clinic):
    found = json_out(slots(clinic, "--doctor", "2", "--duration", "60", "--from", f"{MONDAY}T09:30",
                           "--to", "2031-01-14", "--step", "30", "-o", "json"))  # fmt: skip
    assert [slot["start_time"] for slot in found] == [f"{MONDAY}T09:40:00-05:00", "2031-01-13T09:10:00-05:00",
                                                     "2031-01-13T09:40:00-05:00"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--duration", "30"), 2, "give one of them"),
        (("--doctor", "1", "--specialization", "cardio", "--duration", "30"), 2, "give one of them"),
        (("--doctor", "1", "--duration", "30", "--date", MONDAY, "--from", MONDAY), 2, "give one or the other"),
        (("--doctor", "1"), 2, "Missing option '--duration'"),
        (("--doctor", "1", "--duration", "30", "--limit", "0"), 2, "--limit"),
        (("--doctor", "4", "--duration", "30"), 3, "has no working hours"),
        (("--specialization", "derma", "--duration", "30"), 3, "matches no active doctor with working hours"),
        (("--doctor", "1", "--duration", "10"), 3, "must be between 15 and 180 minutes"),
        (("--doctor", "1", "--duration", "30", "--step", "200"), 3, "must be between 5 and 180 minutes"),
        (("--doctor", "1", "--duration", "30", "--from", MONDAY, "--to", "2031-03-01"), 3, "more than 31 days"),
        (("--doctor", "1", "--duration", "30", "--from", "2031-03-01", "--to", MONDAY), 3, "is later than to"),
        (("--doctor", "1", "--duration", "30", "--date", "someday"), 3, "is not a date"),
        (("--doctor", "9", "--duration", "30"), 4, "doctor 9 does not exist"),
        (("--specialization", "neuro", "--duration", "30"), 4, '"neuro" matches no active doctor'),
        (("--doctor", "3", "--duration", "30"), 5, "doctor 3 is inactive"),
    ],
)
def test_slot_search_exit_codes(clinic, args, code, words):
    result = slots(clinic, *args, "-o", "json", expect=code)
    assert words in result.stderr and result.stdout == ""
    if code > 2:
        assert error_json(result)["exit_code"] == code


def test_without_hours_of_its_own_a_doctor_uses_the_clinics(clinic, tmp_path):
    config = tmp_path / "hours.toml"
    config.write_text('[clinic]\nhours = "mon-fri 16:00-17:00"\n')
    options = ("--doctor", "4", "--duration", "30", "--date", MONDAY, "-o", "json")
    found = json_out(clinic("--config", str(config), "appointment", "slots", *options))
    assert [slot["start_time"][11:16] for slot in found] == ["16:00", "16:15", "16:30"]


# --- schedule ---------------------------------------------------------------------------------------------------------


def test_schedule_json_is_the_day_as_data(clinic):
    clinic("appointment", "book", "--patient", "2", "--doctor", "1", "--start", f"{MONDAY}T09:30", "--duration", "30")
    day = json_out(clinic("schedule", "--date", MONDAY, "-o", "json"))
    assert (day["date"], day["zone"], day["step_minutes"]) == (MONDAY, CLINIC_ZONE, 15)
    assert [doctor["id"] for doctor in day["doctors"]] == [1, 2]  # 3 is inactive, 4 has no hours
    house = day["doctors"][0]
    assert house["hours"] == [{"start": f"{MONDAY}T09:00:00-05:00", "end": f"{MONDAY}T12:30:00-05:00"},
                              {"start": f"{MONDAY}T13:30:00-05:00", "end": f"{MONDAY}T17:00:00-05:00"}]  # fmt: skip
    times = {"start_time": f"{MONDAY}T09:30:00-05:00", "end_time": f"{MONDAY}T10:00:00-05:00"}
    bob = {"id": 1, "patient_id": 2, "patient_name": "Bob [bold]Stone[/]", "status": "booked", **times}
    assert house["appointments"] == [bob]
    assert house["free"][:2] == [{"start": f"{MONDAY}T09:00:00-05:00", "end": f"{MONDAY}T09:30:00-05:00"},
                                 {"start": f"{MONDAY}T10:00:00-05:00", "end": f"{MONDAY}T12:30:00-05:00"}]  # fmt: skip
    assert (house["time_off"], house["full_name"], house["specialization"]) == ([], "Gregory House", "Cardiology")
    chosen = json_out(clinic("schedule", "--date", MONDAY, "--doctor", "4", "--doctor", "3", "-o", "json"))
    assert [doctor["id"] for doctor in chosen["doctors"]] == [4, 3]


def test_the_piped_schedule_is_ascii_with_names_as_typed(clinic):
    clinic("appointment", "book", "--patient", "2", "--doctor", "1", "--start", f"{MONDAY}T09:30", "--duration", "30")
    result = clinic("schedule", "--date", MONDAY)
    lines = result.stdout.splitlines()
    assert lines[0] == f"Schedule {MONDAY} Monday ({CLINIC_ZONE})"
    assert all(line.isascii() and len(line) <= 160 for line in lines)
    row = next(line for line in lines if line.startswith("| 09:30"))
    assert row.split("|")[2].strip() == "Bob [bold]Stone[/]"  # the markup is text
    assert next(line for line in lines if line.startswith("| 09:45")).split("|")[2].strip() == '"'  # ditto


def test_a_day_with_nothing_scheduled_says_so(clinic):
    result = clinic("schedule", "--date", "2031-01-04")  # a Saturday
    assert result.stdout == ""
    assert "nothing scheduled on 2031-01-04 (Saturday)" in result.stderr
    assert json_out(clinic("schedule", "--date", "2031-01-04", "-o", "json"))["doctors"] == []


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--doctor", "1", "--specialization", "cardio"), 2, "give one or the other"),
        (("-o", "csv"), 2, "'csv' is not one of"),
        (
            (
                "--doctor",
                "9",
            ),
            4,
            "doctor 9 does not exist",
        ),
        (("--specialization", "neuro"), 4, "matches no active doctor"),
        (("--date", "31/01/2031"), 3, "is not a date"),
    ],
)
def test_schedule_exit_codes(clinic, args, code, words):
    result = clinic("schedule", *args, expect=code)
    assert words in result.stderr


def test_encounter_output_json_applies_to_the_schedule(clinic):
    result = clinic("schedule", "--date", MONDAY, env={"ENCOUNTER_OUTPUT": "json"})
    assert json.loads(result.stdout)["date"] == MONDAY
    assert clinic("schedule", "--date", MONDAY, env={"ENCOUNTER_OUTPUT": "csv"}).stdout.startswith("Schedule")


def test_the_grid_fits_80_columns_and_pages_doctors(db_url, clinic, hours):
    for n in range(5, 11):
        clinic("doctor", "add", "--full-name", f"Dr Bartholomew Featherstonehaugh-Smythe {n}", "--specialization", "GP")
    clinic("appointment", "book", "--patient", "1", "--doctor", "10", "--start", f"{MONDAY}T17:30", "--duration", "60")
    for n in range(5, 11):  # after the booking, which is outside them
        hours(n, "mon 08:00-17:00")
    clinic("appointment", "book", "--patient", "1", "--doctor", "1", "--start", f"{MONDAY}T09:00", "--duration", "15")
    database = Database(settings_for(db_url))
    later = datetime(2031, 1, 6, 18, 0, tzinfo=ZONE)
    database.run(lambda s: services.record_outcome(s, 2, AppointmentStatus.completed, now=later))
    off = (datetime(2031, 1, 6, 10, 0, tzinfo=ZONE), datetime(2031, 1, 6, 10, 30, tzinfo=ZONE))
    database.run(lambda s: services.add_time_off(s, 1, *off, ZONE, "meeting"))
    day = database.run(lambda s: schedule.day_schedule(s, date(2031, 1, 6), ZONE, default_hours=NO_HOURS), write=False)
    database.dispose()
    text = io.StringIO()
    assert day_grid.print_schedule(day, Console(file=text, width=80, markup=False), day_grid.TERMINAL)
    lines = text.getvalue().splitlines()
    assert max(map(len, lines)) <= 80
    titles = [line for line in lines if line.startswith("Schedule")]
    assert titles == [f"Schedule {MONDAY} Monday ({CLINIC_ZONE}), doctors {pages}" for pages in
                      ("1-4 of 8", "5-8 of 8")]  # fmt: skip
    assert sum(line.count("Dr Bartholome…") for line in lines) == 6  # names shortened to their columns
    assert any(line.startswith("│ 09:00 │ ✓ Ada Lovelace │ free") for line in lines)  # completed
    assert any(line.startswith("│ 10:15 │ off            │ free") for line in lines)
    assert lines[-1].startswith("│ continued  ✓ completed  ✗ no-show")
    grid_rows = [line for line in lines if line[2:4].isdigit() and line[4] == ":"]
    assert grid_rows[0][2:7] == "08:00" and grid_rows[-1][2:7] == "18:15"  # extended to the 17:30-18:30 visit


def test_doctors_are_paged_evenly_and_a_narrow_console_gets_one_a_grid():
    doctors = [schedule.DoctorDay(n, f"Dr {n}", "GP", True, [], [], [], []) for n in range(1, 6)]
    assert [(len(page), width) for page, width in day_grid.pages_of(doctors, 80)] == [(3, 18), (2, 18)]
    assert [(len(page), width) for page, width in day_grid.pages_of(doctors, 160)] == [(5, 18)]
    narrow = day_grid.pages_of(doctors, 24)
    assert [(len(page), width) for page, width in narrow] == [(1, 12)] * 5
    assert day_grid._range_of(narrow, 3) == "doctor 3"
    assert day_grid.fit("Zoë [b]Ab\x1bcdefgh", 12, day_grid.TERMINAL) == "Zoë [b]Ab\\x…"
