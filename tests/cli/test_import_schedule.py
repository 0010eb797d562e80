"""`encounter appointment import` and the front desk's rules: working hours, time off, rule 9 (a patient in one
place at a time) and --allow-patient-overlap, on SQLite and MariaDB.

That each rejection reads as `appointment book`'s does is checked with the other rules in test_import_rules.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import services
from encounter_cli.services import imports
from encounter_cli.working_hours import NO_HOURS, parse_hours
from tests.cli.test_import_formats import rejected, stored, write
from tests.cli.test_import_rules import EXIT, import_rows
from tests.helpers import CLINIC_ZONE, error_json, json_out

ZONE = ZoneInfo(CLINIC_ZONE)
PATIENTS = [{"first_name": f"P{n}", "last_name": "Desk", "email": f"p{n}@example.org"} for n in (1, 2, 3)]


@pytest.fixture
def desk(cli, tmp_path):
    """Patients 1-3; doctors 1-5 active, 6 inactive; no hours, no bookings."""
    import_rows(cli, tmp_path, "patient", PATIENTS)
    doctors = [{"full_name": f"Dr {n}", "specialization": "GP", "is_active": n < 6} for n in range(1, 7)]
    import_rows(cli, tmp_path, "doctor", doctors)
    return cli


def visit(patient: int, doctor: int, start: str, minutes: int = 30) -> dict:
    """A booking on Monday 2031-01-06 (New York)."""
    return {"patient_id": patient, "doctor_id": doctor, "start_time": f"2031-01-06T{start}",
            "duration_minutes": minutes}  # fmt: skip


def load(cli, tmp_path, rows: list[dict], *options: str, expect: int = 0):
    """Import appointments from CSV: the first row is line 2."""
    return import_rows(cli, tmp_path, "appointment", rows, *options, expect=expect, fmt="csv")


def messages(result) -> list[tuple[int, str]]:
    return [(r["line"], r["message"]) for r in json_out(result)["rejected"]]


def booked(cli) -> list[tuple[int, int, str]]:
    """(patient, doctor, start HH:MM) of the stored bookings, in start order."""
    return [(a["patient_id"], a["doctor_id"], a["start_time"][11:16]) for a in stored(cli, "appointment")]


def busy(patient: int, start: str, end: str, holder: str) -> str:
    day = "2031-01-06T"
    return f"patient {patient} is already booked from {day}{start}:00-05:00 to {day}{end}:00-05:00 ({holder})"


# --- rule 9 within the file -------------------------------------------------------------------------------------------


def test_a_patient_booked_twice_in_one_file_names_the_first_line_as_book_names_the_appointment(desk, tmp_path):
    rows = [
        visit(1, 1, "10:00"),  # 2
        visit(1, 2, "10:15"),  # 3: patient 1 is with doctor 1 then
        visit(2, 2, "10:15"),  # 4: the rejected row 3 claimed neither doctor 2 nor patient 1's time
        visit(1, 3, "10:30"),  # 5: right after line 2: half-open intervals touch
        visit(1, 6, "11:00"),  # 6: inactive doctor: claims nothing for patient 1
        visit(1, 4, "11:00"),  # 7
    ]
    result = load(desk, tmp_path, rows, expect=5)
    assert messages(result) == [
        (3, busy(1, "10:00", "10:30", "line 2 of this input")),
        (6, "doctor 6 is inactive and cannot be booked"),
    ]
    assert rejected(result) == [(3, "start_time", "conflict"), (6, "doctor_id", "conflict")]
    assert booked(desk) == []
    # `appointment book` of the same two rows: the same words, naming the stored appointment instead of the line.
    first = desk("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T10:00",
                 "--duration", "30", "-o", "json")  # fmt: skip
    held = json_out(first)["id"]  # 1, or more on MariaDB, where the failed import used up ids
    single = desk("appointment", "book", "--patient", "1", "--doctor", "2", "--start", "2031-01-06T10:15",
                  "--duration", "30", "-o", "json", expect=5)  # fmt: skip
    error = error_json(single)
    assert error["message"] == busy(1, "10:00", "10:30", f"appointment {held}")
    assert (error["type"], error["details"]["field"]) == ("conflict", "start_time")


def test_skip_invalid_writes_the_patients_first_booking_only(desk, tmp_path):
    rows = [visit(1, 1, "10:00"), visit(1, 2, "10:00"), visit(1, 3, "09:45", 60), visit(2, 2, "10:00")]
    result = load(desk, tmp_path, rows, "--skip-invalid", expect=5)
    assert [line for line, _ in messages(result)] == [3, 4]
    assert booked(desk) == [(1, 1, "10:00"), (2, 2, "10:00")]


ACROSS_BATCHES = [  # two rows a batch
    visit(1, 1, "10:00"),  # 2
    visit(2, 1, "11:00"),  # 3
    visit(1, 2, "10:15"),  # 4: line 2, a batch before
    visit(2, 2, "12:00"),  # 5
    visit(2, 3, "11:45", 30),  # 6: line 5, a batch before
    visit(3, 3, "10:00"),  # 7
]
IN_THE_INPUT = [  # while the earlier batch is not committed, its rows are lines of the input
    (4, busy(1, "10:00", "10:30", "line 2 of this input")),
    (6, busy(2, "12:00", "12:30", "line 5 of this input")),
]
COMMITTED = [  # --skip-invalid has committed the earlier batch: stored appointments, as for a doctor's slot
    (4, busy(1, "10:00", "10:30", "appointment 1")),
    (6, busy(2, "12:00", "12:30", "appointment 3")),
]


@pytest.mark.parametrize(
    ("options", "rejections", "written"),
    [
        ((), IN_THE_INPUT, 0),
        (("--skip-invalid",), COMMITTED, 4),
        (("--dry-run",), IN_THE_INPUT, 0),
        (("--dry-run", "--skip-invalid"), IN_THE_INPUT, 0),
    ],
)
def test_patient_overlaps_are_found_across_batches(desk, tmp_path, monkeypatch, options, rejections, written):
    """All-or-nothing has inserted the earlier batch (uncommitted) and still names its lines; a dry run has stored
    nothing and finds the clashes all the same."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    result = load(desk, tmp_path, ACROSS_BATCHES, *options, expect=5)
    assert messages(result) == rejections
    assert (json_out(result)["written"], json_out(result)["valid"]) == (written, 4)
    assert booked(desk) == ([(1, 1, "10:00"), (3, 3, "10:00"), (2, 1, "11:00"), (2, 2, "12:00")] if written else [])


@pytest.mark.parametrize("options", [(), ("--skip-invalid",), ("--dry-run",)])
def test_allow_patient_overlap_lets_them_through_but_not_the_doctors_rules(desk, tmp_path, monkeypatch, options):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    rows = [*ACROSS_BATCHES, visit(3, 1, "10:15")]  # 8: doctor 1 is busy with line 2 then (rule 5)
    result = load(desk, tmp_path, rows, "--allow-patient-overlap", *options, expect=5)
    assert [(r["line"], r["message"][:26]) for r in json_out(result)["rejected"]] == [(8, "doctor 1 is already booked")]
    written = 6 if options == ("--skip-invalid",) else 0
    assert (json_out(result)["valid"], json_out(result)["written"], len(booked(desk))) == (6, written, written)


def test_allow_patient_overlap_accepts_a_clash_with_a_stored_booking(desk, tmp_path):
    desk("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T10:00", "--duration", "30")
    rows = [visit(1, 2, "10:00")]
    result = load(desk, tmp_path, rows, expect=5)
    assert messages(result) == [(2, busy(1, "10:00", "10:30", "appointment 1"))]
    load(desk, tmp_path, rows, "--allow-patient-overlap")
    assert booked(desk) == [(1, 1, "10:00"), (1, 2, "10:00")]
    # Those two now overlap; a third row over both names the one that starts first, whichever doctor.
    result = load(desk, tmp_path, [visit(1, 3, "09:45")], expect=5)
    assert messages(result) == [(2, busy(1, "10:00", "10:30", "appointment 1"))]


def test_only_appointment_import_has_the_flag(desk, tmp_path):
    for entity in ("patient", "doctor"):
        result = desk(entity, "import", write(tmp_path, "x.csv", "a\n"), "--allow-patient-overlap", expect=2)
        assert "No such option: --allow-patient-overlap" in result.stderr
    assert "--allow-patient-overlap" in desk("appointment", "import", "--help").stdout


def test_a_cancelled_booking_does_not_hold_the_patient(desk, tmp_path):
    desk("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T10:00", "--duration", "30")
    desk("appointment", "cancel", "1")
    load(desk, tmp_path, [visit(1, 2, "10:00")])
    assert booked(desk) == [(1, 2, "10:00")]


def test_a_long_stored_booking_that_started_before_every_row_still_holds_the_patient(desk, tmp_path):
    """Stored bookings are read from the batch's first start less the longest duration, not from that start."""
    desk("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T08:00", "--duration", "180")
    rows = [visit(1, 2, "10:45"), visit(1, 3, "11:00"), visit(2, 2, "11:30")]  # the batch starts at 10:45
    result = load(desk, tmp_path, rows, "--skip-invalid", expect=5)
    assert messages(result) == [(2, busy(1, "08:00", "11:00", "appointment 1"))]
    assert booked(desk) == [(1, 1, "08:00"), (1, 3, "11:00"), (2, 2, "11:30")]


def test_one_patient_with_every_doctor_at_once_keeps_one_booking(desk, tmp_path, monkeypatch):
    """Hostile: the same slot for one patient again and again, with every doctor, over batches of three."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    rows = [visit(1, doctor, "10:00") for doctor in (1, 2, 3, 4, 5)] * 4
    shown = "from 2031-01-06T10:00:00-05:00 to 2031-01-06T10:30:00-05:00"
    line = "(line 2 of this input)"
    # Doctor 1 holds the slot (rule 5, checked first) against the repeats of line 2; patient 1 against all others.
    result = load(desk, tmp_path, rows, expect=5)
    assert Counter(message for _, message in messages(result)) == {
        f"doctor 1 is already booked {shown} {line}": 3,
        f"patient 1 is already booked {shown} {line}": 16,
    }
    # --skip-invalid has committed line 2 with the first batch: from the next batch on, it is a stored appointment.
    result = load(desk, tmp_path, rows, "--skip-invalid", expect=5)
    stored_one = f"(appointment {stored(desk, 'appointment')[0]['id']})"
    assert Counter(message for _, message in messages(result)) == {
        f"doctor 1 is already booked {shown} {stored_one}": 3,
        f"patient 1 is already booked {shown} {line}": 2,
        f"patient 1 is already booked {shown} {stored_one}": 14,
    }
    assert booked(desk) == [(1, 1, "10:00")]


# --- working hours and time off ---------------------------------------------------------------------------------------


def set_hours(database, doctor_id: int, *text: str) -> None:
    week = parse_hours(text)
    database.run(lambda session: services.set_hours(session, doctor_id, week, NO_HOURS, ZONE))


def test_clinic_hours_apply_to_doctors_without_their_own(desk, database, tmp_path):
    (tmp_path / "encounter.toml").write_text('[clinic]\nhours = "mon-fri 09:00-12:30,13:30-17:00"\n')
    set_hours(database, 2, "sat 10:00-12:00")
    rows = [
        {**visit(1, 1, "08:30")},  # 2: before the clinic's hours
        {**visit(1, 1, "12:15")},  # 3: into the lunch break
        {**visit(1, 1, "13:30")},  # 4
        {**visit(2, 2, "10:00")},  # 5: a Monday: doctor 2 works Saturdays only
        {**visit(2, 2, "10:00"), "start_time": "2031-01-11T10:00"},  # 6: a Saturday
        {**visit(1, 1, "09:00"), "start_time": "2031-03-07T09:00"},  # 7: Friday, EST
        {**visit(1, 1, "09:00"), "start_time": "2031-03-10T09:00"},  # 8: Monday, EDT: 09:00 is wall time
        {**visit(1, 1, "09:00"), "start_time": "2031-03-10T08:45"},  # 9
    ]
    result = load(desk, tmp_path, rows, "--skip-invalid", expect=5)
    assert [(line, message.split(" (")[0]) for line, message in messages(result)] == [
        (2, "doctor 1 does not work from 2031-01-06T08:30:00-05:00 to 2031-01-06T09:00:00-05:00"),
        (3, "doctor 1 does not work from 2031-01-06T12:15:00-05:00 to 2031-01-06T12:45:00-05:00"),
        (5, "doctor 2 does not work from 2031-01-06T10:00:00-05:00 to 2031-01-06T10:30:00-05:00"),
        (9, "doctor 1 does not work from 2031-03-10T08:45:00-04:00 to 2031-03-10T09:15:00-04:00"),
    ]
    assert [a["start_time"] for a in stored(desk, "appointment")] == [
        "2031-01-06T13:30:00-05:00",
        "2031-01-11T10:00:00-05:00",
        "2031-03-07T09:00:00-05:00",
        "2031-03-10T09:00:00-04:00",
    ]


def test_time_off_over_midnight_blocks_both_days_and_touches_neither_neighbour(desk, database, tmp_path):
    off = datetime(2031, 1, 6, 22, tzinfo=ZONE), datetime(2031, 1, 7, 2, tzinfo=ZONE)
    database.run(lambda session: services.add_time_off(session, 1, *off, ZONE))
    rows = [
        visit(1, 1, "21:30"),  # 2: ends as the time off starts
        visit(1, 1, "23:30"),  # 3
        {**visit(2, 1, "00:00"), "start_time": "2031-01-07T01:45"},  # 4
        {**visit(2, 1, "00:00"), "start_time": "2031-01-07T02:00"},  # 5: starts as it ends
        visit(3, 2, "23:30"),  # 6: another doctor
    ]
    result = load(desk, tmp_path, rows, "--skip-invalid", expect=5)
    shown = "from 2031-01-06T22:00:00-05:00 to 2031-01-07T02:00:00-05:00 (time off 1)"
    assert messages(result) == [(3, f"doctor 1 is off {shown}"), (4, f"doctor 1 is off {shown}")]
    assert len(booked(desk)) == 3


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        ([visit(1, 1, "10:00"), visit(1, 2, "10:00")], "conflict"),  # rule 9 within the file
        ([visit(1, 1, "10:00"), visit(1, 2, "10:00"), visit(9, 2, "11:00")], "not_found"),
        ([visit(1, 1, "10:00"), visit(1, 2, "10:00"), visit(2, 2, "10:00", 10)], "invalid"),
        ([visit(1, 4, "07:00"), visit(2, 4, "12:00")], "conflict"),  # outside hours, time off
    ],
)
def test_exit_codes_with_the_new_rules(desk, database, tmp_path, rows, kind):
    set_hours(database, 4, "mon-fri 09:00-17:00")
    off = datetime(2031, 1, 6, 11, tzinfo=ZONE), datetime(2031, 1, 6, 14, tzinfo=ZONE)
    database.run(lambda session: services.add_time_off(session, 4, *off, ZONE))
    for options in ((), ("--skip-invalid",), ("--dry-run",)):
        error = error_json(load(desk, tmp_path, rows, *options, expect=EXIT[kind]))
        assert (error["type"], error["exit_code"]) == (kind, EXIT[kind])


def test_a_patient_booked_back_to_back_hundreds_of_times_then_once_across_two(desk, tmp_path, monkeypatch):
    """Hostile: 300 quarter hours in a row for one patient, with five doctors in turn, over batches of 64."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 64)
    first = datetime(2031, 1, 6, tzinfo=ZONE)
    starts = [first + timedelta(minutes=15 * n) for n in range(300)]
    rows = [{"patient_id": 1, "doctor_id": n % 5 + 1, "start_time": start.isoformat(), "duration_minutes": 15}
            for n, start in enumerate(starts)]  # fmt: skip
    # Line 302: from five minutes into line 152's quarter hour into line 153's, with doctor 3, who is free then;
    # of the two earlier rows it reaches into, the later is named.
    late = {**rows[150], "doctor_id": 3, "start_time": (starts[150] + timedelta(minutes=5)).isoformat()}
    result = load(desk, tmp_path, [*rows, late], expect=5)
    [(line, message)] = messages(result)
    held = "from 2031-01-07T13:45:00-05:00 to 2031-01-07T14:00:00-05:00 (line 153 of this input)"
    assert (line, message) == (302, f"patient 1 is already booked {held}")
    assert json_out(result)["valid"] == 300
