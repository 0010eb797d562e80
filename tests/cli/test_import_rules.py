"""`encounter ... import`: the single-record rules per row, exit codes, modes and the export/import round trip.

Formats, awkward CSV and hostile input are in test_import_formats.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import services
from encounter_cli.cli.output import printable
from encounter_cli.services import imports
from encounter_cli.working_hours import NO_HOURS, parse_hours
from tests.cli.test_import_formats import ADA, ALAN, ENCODE, as_csv, as_ndjson, emails, rejected, report, stored, write
from tests.helpers import CLINIC_ZONE, error_json, json_out

EXIT = {"invalid": 3, "not_found": 4, "conflict": 5}
STAMPS = ("created_at", "updated_at")


def import_rows(cli, tmp_path, entity: str, rows: list[dict], *options: str, expect: int = 0, fmt: str = "json"):
    path = write(tmp_path, f"{entity}s.{fmt}", ENCODE[fmt](rows))
    return cli(entity, "import", path, *options, "-o", "json", expect=expect)


# --- patients and doctors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("email", "bob@", "--email"),
        ("first_name", "   ", "--first-name"),
        ("last_name", "x" * 101, "--last-name"),
        ("last_name", "two\nlines", "--last-name"),
        ("phone", "12ab", "--phone"),
        ("phone", "1" * 21, "--phone"),
        ("date_of_birth", "2999-01-01", "--dob"),
        ("date_of_birth", "01/02/1990", "--dob"),
        ("id", "0", None),
        ("id", "abc", None),
    ],
)
def test_invalid_patient_values_are_rejected_like_add(cli, tmp_path, field, value, option):
    rows = [ALAN, {**ADA, field: value}]
    fields = list(dict.fromkeys(["first_name", "last_name", "email", field]))
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(rows, fields)), "-o", "json", expect=3)
    [rejection] = json_out(result)["rejected"]
    assert (rejection["line"], rejection["field"], rejection["type"]) == (3, field, "invalid")
    assert rejection["message"].startswith(f"{field}:")
    assert f"line 3: {printable(rejection['message'])}" in result.stderr
    if option:  # the same value through `patient add` breaks the same rule with the same words
        flat = [part for name, given in ADA.items() for part in (f"--{name.replace('_', '-')}", given)]
        single = cli("patient", "add", *flat, option, value, "-o", "json", expect=3)
        assert error_json(single)["message"] == rejection["message"]
    assert stored(cli) == []


def test_missing_required_column_rejects_every_row(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", "first_name,last_name\nAda,L\nAlan,T\n"), expect=3)
    assert result.stderr.splitlines()[:2] == ["line 2: email: is required", "line 3: email: is required"]


def test_duplicate_email_against_the_database_is_a_conflict(cli, tmp_path):
    cli("patient", "add", "--first-name", "Ada", "--last-name", "L", "--email", "ada@example.org")
    result = import_rows(cli, tmp_path, "patient", [ALAN, {**ADA, "email": "ADA@Example.org"}], expect=5)
    assert report(result) == {
        "read": 2, "written": 0,
        "rejected": [{"line": 2, "field": "email", "type": "conflict",
                      "message": 'email: "ada@example.org" is already used by another patient'}],
    }  # fmt: skip
    assert error_json(result) == {
        "type": "conflict", "exit_code": 5, "message": "1 of 2 rows rejected", "details": {"rejected": 1, "read": 2},
    }  # fmt: skip
    single = cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "ADA@Example.org", "-o", "json",
                 expect=5)  # fmt: skip
    assert error_json(single)["message"] == report(result)["rejected"][0]["message"]
    assert emails(cli) == ["ada@example.org"]


def test_duplicate_email_within_the_file_cites_the_first_line(cli, tmp_path):
    rows = [ADA, ALAN, {**ADA, "first_name": "Other", "email": " Ada@EXAMPLE.org "}]
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(rows)), "-o", "json", expect=5)
    assert json_out(result)["rejected"] == [
        {"line": 4, "field": "email", "type": "conflict",
         "message": 'email: "ada@example.org" appears twice in the input (first at line 2)'},
    ]  # fmt: skip
    assert stored(cli) == []


@pytest.mark.parametrize(
    ("entity", "row", "other"),
    [
        ("patient", ADA, ALAN),
        ("doctor", {"full_name": "Dr A", "specialization": "GP"}, {"full_name": "Dr B", "specialization": "GP"}),
    ],
)
def test_id_column_is_kept_and_later_ids_follow(cli, tmp_path, entity, row, other):
    result = import_rows(cli, tmp_path, entity, [{"id": 7, **row}, {"id": 3, **other}])
    assert report(result) == {"read": 2, "written": 2, "rejected": []}
    assert [record["id"] for record in stored(cli, entity)] == [3, 7]
    import_rows(cli, tmp_path, entity, [{**row, "email": "new@example.org"} if entity == "patient" else row])
    assert [record["id"] for record in stored(cli, entity)] == [3, 7, 8]


@pytest.mark.parametrize("entity", ["patient", "doctor"])
def test_taken_id_is_a_conflict(cli, tmp_path, entity):
    first = {"patient": ADA, "doctor": {"full_name": "Dr A", "specialization": "GP"}}[entity]
    import_rows(cli, tmp_path, entity, [first])
    rows = [
        {"id": 1, "first_name": "X", "last_name": "Y", "email": "x@example.org"},
        {"id": 2, "first_name": "Z", "last_name": "Y", "email": "z@example.org"},
        {"id": 2, "first_name": "W", "last_name": "Y", "email": "w@example.org"},
    ]
    if entity == "doctor":
        rows = [{"id": row["id"], "full_name": row["first_name"], "specialization": "GP"} for row in rows]
    result = import_rows(cli, tmp_path, entity, rows, "--skip-invalid", expect=5)
    assert [(r["line"], r["field"], r["type"], r["message"]) for r in json_out(result)["rejected"]] == [
        (1, "id", "conflict", f"{entity} id 1 is already taken"),
        (3, "id", "conflict", 'id: "2" appears twice in the input (first at line 2)'),
    ]
    assert [record["id"] for record in stored(cli, entity)] == [1, 2]


def test_doctor_import_keeps_is_active(cli, tmp_path):
    content = "full_name,specialization,is_active\nDr A,Cardiology,true\nDr B,Derm,false\nDr C,GP,\nDr D,GP,maybe\n"
    result = cli("doctor", "import", write(tmp_path, "d.csv", content), "--skip-invalid", "-o", "json", expect=3)
    assert rejected(result) == [(5, "is_active", "invalid")]
    assert [(d["full_name"], d["is_active"]) for d in stored(cli, "doctor")] == [
        ("Dr A", True), ("Dr B", False), ("Dr C", True),
    ]  # fmt: skip


@pytest.mark.parametrize("entity", ["patient", "doctor"])
def test_output_only_columns_are_accepted_and_ignored(cli, tmp_path, entity):
    row = ADA if entity == "patient" else {"full_name": "Dr A", "specialization": "GP", "is_active": "false"}
    junk = {"created_at": "1999-01-01T00:00:00+00:00", "updated_at": "not even a time"}
    cli(entity, "import", write(tmp_path, "x.csv", as_csv([{"id": 4, **row, **junk}])))
    [record] = stored(cli, entity)
    assert record["id"] == 4 and not record["created_at"].startswith("1999")
    assert record["created_at"] == record["updated_at"]


# --- appointments -----------------------------------------------------------------------------------------------------

APPOINTMENT = {"patient_id": 1, "doctor_id": 2, "start_time": "2031-01-06T12:00", "duration_minutes": 30}


@pytest.fixture
def clinic(cli, tmp_path):
    """Patients 1-2; doctors 1-2 active, 3 inactive; doctor 1 booked 2031-01-06 09:00-09:30 (New York)."""
    import_rows(cli, tmp_path, "patient", [ADA, ALAN])
    doctors = [{"full_name": f"Dr {n}", "specialization": "GP", "is_active": n < 3} for n in (1, 2, 3)]
    import_rows(cli, tmp_path, "doctor", doctors)
    cli("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T09:00", "--duration", "30")
    return cli


@pytest.fixture
def scheduled(clinic, database, tmp_path):
    """The clinic, and doctor 4, who works mon-fri 09:00-17:00 and is off 2031-01-07 09:00-13:00 (New York)."""
    import_rows(clinic, tmp_path, "doctor", [{"full_name": "Dr 4", "specialization": "GP"}])
    zone = ZoneInfo(CLINIC_ZONE)
    week = parse_hours(["mon-fri 09:00-17:00"])
    off = datetime(2031, 1, 7, 9, tzinfo=zone), datetime(2031, 1, 7, 13, tzinfo=zone)
    database.run(lambda session: services.set_hours(session, 4, week, NO_HOURS, zone))
    database.run(lambda session: services.add_time_off(session, 4, *off, zone, "course"))
    return clinic


def appointments(cli) -> list[tuple[int, int, str, str]]:
    listing = json_out(cli("appointment", "list", "-o", "json"))
    return [(a["id"], a["doctor_id"], a["start_time"], a["end_time"]) for a in listing]


def book(cli, row: dict, expect: int):
    options = {"patient_id": "--patient", "doctor_id": "--doctor", "start_time": "--start",
               "duration_minutes": "--duration", "reason": "--reason"}  # fmt: skip
    flat = [part for name, value in row.items() for part in (options[name], str(value))]
    return cli("appointment", "book", *flat, "-o", "json", expect=expect)


BAD_BOOKINGS = [  # (change to APPOINTMENT, rejected field, kind): one row each, all in one file
    ({"patient_id": 9}, "patient_id", "not_found"),
    ({"patient_id": 9, "doctor_id": 9}, "doctor_id", "not_found"),  # two faults: the same one reported as `book`
    ({"patient_id": 9, "doctor_id": 3}, "patient_id", "not_found"),
    ({"doctor_id": 9}, "doctor_id", "not_found"),
    ({"doctor_id": 3}, "doctor_id", "conflict"),
    ({"doctor_id": 1, "start_time": "2031-01-06T09:15"}, "start_time", "conflict"),
    ({"doctor_id": 1, "start_time": "2031-01-06T08:45"}, "start_time", "conflict"),
    ({"doctor_id": 1, "start_time": "2031-01-06T08:00", "duration_minutes": 180}, "start_time", "conflict"),
    ({"doctor_id": 1, "start_time": "2031-01-06T14:05Z", "duration_minutes": 15}, "start_time", "conflict"),
    ({"start_time": "2020-01-06T09:00"}, "start_time", "invalid"),
    ({"start_time": "2030-03-10T02:30"}, "start_time", "invalid"),
    ({"start_time": "2030-11-03T01:30"}, "start_time", "invalid"),
    ({"start_time": "2031-01-06T12:00:30"}, "start_time", "invalid"),
    ({"start_time": "next tuesday"}, "start_time", "invalid"),
    ({"duration_minutes": 14}, "duration_minutes", "invalid"),
    ({"duration_minutes": 181}, "duration_minutes", "invalid"),
    ({"reason": "x" * 501}, "reason", "invalid"),
    ({"doctor_id": 4, "start_time": "2031-01-06T08:30"}, "start_time", "conflict"),  # before doctor 4's hours
    ({"doctor_id": 4, "start_time": "2031-01-06T16:45"}, "start_time", "conflict"),  # ends after them
    ({"doctor_id": 4, "start_time": "2031-01-11T10:00"}, "start_time", "conflict"),  # a Saturday
    ({"doctor_id": 4, "start_time": "2031-01-07T12:45"}, "start_time", "conflict"),  # into the time off
    ({"doctor_id": 4, "start_time": "2031-01-07T08:45"}, "start_time", "conflict"),  # hours, then time off
    ({"doctor_id": 2, "start_time": "2031-01-06T09:15"}, "start_time", "conflict"),  # patient 1 is with doctor 1
    ({"doctor_id": 4, "start_time": "2031-01-06T08:45"}, "start_time", "conflict"),  # hours, then patient 1
    ({"doctor_id": 1, "start_time": "2031-01-06T08:45", "patient_id": 2}, "start_time", "conflict"),  # slot (5)
]


def test_every_row_meets_the_booking_rules_like_book(scheduled, tmp_path):
    clinic = scheduled
    rows = [{**APPOINTMENT, **change} for change, _, _ in BAD_BOOKINGS]
    result = import_rows(clinic, tmp_path, "appointment", rows, fmt="csv", expect=3)
    rejections = json_out(result)["rejected"]
    assert [(r["line"], r["field"], r["type"]) for r in rejections] == [
        (line, field, kind) for line, (_, field, kind) in enumerate(BAD_BOOKINGS, start=2)
    ]
    for row, rejection in zip(rows, rejections, strict=True):  # `appointment book` gives the same answer
        single = error_json(book(clinic, row, expect=EXIT[rejection["type"]]))
        assert (single["type"], single["details"]["field"], single["message"]) == (
            rejection["type"],
            rejection["field"],
            rejection["message"],
        )
    assert [a[0] for a in appointments(clinic)] == [1]


def test_dst_times_are_invalid_with_a_hint(clinic, tmp_path):
    rows = [{**APPOINTMENT, "start_time": start} for start in ("2030-03-10T02:30", "2030-11-03T01:30")]
    result = import_rows(clinic, tmp_path, "appointment", rows, expect=3)
    assert [r["message"] for r in json_out(result)["rejected"]] == [
        'start_time: "2030-03-10T02:30" does not exist in America/New_York (daylight-saving change)',
        'start_time: "2030-11-03T01:30" is ambiguous in America/New_York (daylight-saving change)',
    ]


def test_an_import_only_makes_new_bookings(clinic, tmp_path):
    changes = [
        ({"status": "cancelled"}, "status"),
        ({"status": "completed"}, "status"),
        ({"status": "no_show"}, "status"),
        ({"cancelled_at": "2031-01-01T00:00-05:00"}, "cancelled_at"),
        ({"cancellation_reason": "patient called"}, "cancellation_reason"),
    ]
    rows = [{**APPOINTMENT, **change} for change, _ in changes]
    result = import_rows(clinic, tmp_path, "appointment", rows, expect=3)
    assert rejected(result) == [(line, field, "invalid") for line, (_, field) in enumerate(changes, start=1)]
    assert all(r["message"].endswith("an import makes new bookings") for r in json_out(result)["rejected"])


def test_output_only_appointment_columns_are_accepted_and_ignored(clinic, tmp_path):
    row = {"id": 5, **APPOINTMENT, "end_time": "1999-01-01T00:00:00+00:00", "status": "booked", "reason": "ok",
           "cancelled_at": "", "cancellation_reason": "", "created_at": "x", "updated_at": "y"}  # fmt: skip
    result = import_rows(clinic, tmp_path, "appointment", [row], fmt="csv")
    assert report(result) == {"read": 1, "written": 1, "rejected": []}
    stored_row = json_out(clinic("appointment", "show", "5", "-o", "json"))
    assert (stored_row["end_time"], stored_row["status"]) == ("2031-01-06T12:30:00-05:00", "booked")
    assert stored_row["cancelled_at"] is None and stored_row["created_at"] != "x"
    again = import_rows(
        clinic, tmp_path, "appointment", [{**row, "doctor_id": 1, "patient_id": 2}], fmt="csv", expect=5
    )
    assert json_out(again)["rejected"] == [
        {"line": 2, "field": "id", "type": "conflict", "message": "appointment id 5 is already taken"}
    ]


@pytest.mark.parametrize(
    ("fmt", "names"),
    [
        ("csv", {"patient_name": "Somebody Else", "doctor_name": "Dr Nobody"}),
        ("csv", {"patient_name": "", "doctor_name": "=1+2"}),
        ("json", {"patient_name": 5, "doctor_name": None}),
        ("ndjson", {"patient_name": ["not", "a", "name"], "doctor_name": {"x": 1}}),
    ],
)  # fmt: skip
def test_patient_and_doctor_names_are_accepted_and_ignored(clinic, tmp_path, fmt, names):
    """The names are output-only: they come from the ids, so a wrong or odd one is no error."""
    result = import_rows(clinic, tmp_path, "appointment", [{**APPOINTMENT, **names}], fmt=fmt)
    assert report(result) == {"read": 1, "written": 1, "rejected": []}
    stored_row = json_out(clinic("appointment", "show", "2", "-o", "json"))
    assert (stored_row["patient_name"], stored_row["doctor_name"]) == ("Ada Lovelace", "Dr 2")


def test_rows_of_one_file_may_not_overlap_but_may_touch(clinic, tmp_path):
    """A doctor's bookings (rule 5); the patient's own (rule 9) are allowed to overlap here."""
    rows = [
        {**APPOINTMENT, "start_time": "2031-01-06T10:00"},  # 1
        {**APPOINTMENT, "start_time": "2031-01-06T10:30"},  # 2: back to back with 1
        {**APPOINTMENT, "start_time": "2031-01-06T10:15", "patient_id": 2},  # 3: overlaps 1 and 2
        {**APPOINTMENT, "start_time": "2031-01-06T09:45", "duration_minutes": 15},  # 4: ends as 1 starts
        {**APPOINTMENT, "doctor_id": 1, "start_time": "2031-01-06T09:30"},  # 5: right after the stored one
        {**APPOINTMENT, "doctor_id": 1, "start_time": "2031-01-06T08:30"},  # 6: right before it
        {**APPOINTMENT, "doctor_id": 1, "start_time": "2031-01-06T10:15"},  # 7: doctor 2 is busy then, doctor 1 is not
    ]
    result = import_rows(clinic, tmp_path, "appointment", rows, "--allow-patient-overlap", expect=5)
    assert rejected(result) == [(3, "start_time", "conflict")]
    message = json_out(result)["rejected"][0]["message"]
    assert re.fullmatch(r"doctor 2 is already booked from \S+ to \S+ \(line 2 of this input\)", message)
    assert len(appointments(clinic)) == 1
    result = import_rows(clinic, tmp_path, "appointment", rows, "--skip-invalid", "--allow-patient-overlap", expect=5)
    assert report(result)["written"] == 6
    assert [(a[1], a[2][11:16], a[3][11:16]) for a in appointments(clinic)] == [
        (1, "08:30", "09:00"), (1, "09:00", "09:30"), (1, "09:30", "10:00"), (2, "09:45", "10:00"),
        (2, "10:00", "10:30"), (1, "10:15", "10:45"), (2, "10:30", "11:00"),
    ]  # fmt: skip


def test_cancelled_slot_is_free_for_an_import(clinic, tmp_path):
    clinic("appointment", "cancel", "1")
    import_rows(clinic, tmp_path, "appointment", [{**APPOINTMENT, "doctor_id": 1, "start_time": "2031-01-06T09:00"}])
    assert [a[0] for a in appointments(clinic)] == [2]


# --- exit codes -------------------------------------------------------------------------------------------------------

NOT_FOUND = {**APPOINTMENT, "patient_id": 9}
CONFLICT = {**APPOINTMENT, "doctor_id": 3}
INVALID = {**APPOINTMENT, "duration_minutes": 5}
PATIENT_BUSY = {**APPOINTMENT, "start_time": "2031-01-06T09:15"}  # patient 1 is with doctor 1 then
GOOD = APPOINTMENT


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        ([GOOD, CONFLICT, INVALID], "invalid"),
        ([CONFLICT, NOT_FOUND], "not_found"),
        ([NOT_FOUND, CONFLICT, INVALID, GOOD], "invalid"),
        ([GOOD, CONFLICT], "conflict"),
        ([PATIENT_BUSY, GOOD], "conflict"),
        ([PATIENT_BUSY, NOT_FOUND], "not_found"),
        ([GOOD, PATIENT_BUSY, INVALID], "invalid"),
    ],
)
def test_exit_code_is_the_worst_kind_of_rejection_in_either_mode(clinic, tmp_path, rows, kind):
    for options in ((), ("--skip-invalid",)):
        error = error_json(import_rows(clinic, tmp_path, "appointment", rows, *options, expect=EXIT[kind]))
        assert (error["type"], error["exit_code"]) == (kind, EXIT[kind])
        assert error["message"] == f"{len(rows) - (GOOD in rows)} of {len(rows)} rows rejected"
    assert len(appointments(clinic)) == 1 + (GOOD in rows)


# --- modes ------------------------------------------------------------------------------------------------------------

MIXED = [ADA, {**ADA, "email": "bob@"}, ALAN, {"first_name": "", "last_name": "X", "email": "x@example.org"},
         {**ALAN, "first_name": "Again"}]  # fmt: skip
MIXED_REJECTED = [
    {"line": 3, "field": "email", "type": "invalid",
     "message": 'email: "bob@" is not a valid email address (There must be something after the @-sign.)'},
    {"line": 5, "field": "first_name", "type": "invalid", "message": "first_name: is required"},
    {"line": 6, "field": "email", "type": "conflict",
     "message": 'email: "alan@example.org" appears twice in the input (first at line 4)'},
]  # fmt: skip


def test_all_or_nothing_reports_every_failing_row_and_writes_nothing(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(MIXED)), "-o", "json", expect=3)
    assert report(result) == {"read": 5, "written": 0, "rejected": MIXED_REJECTED}
    assert result.stderr.splitlines()[:-2] == [
        *(f"line {r['line']}: {r['message']}" for r in MIXED_REJECTED),
        "read 5, written 0, rejected 3",
        "nothing was written: fix the rejected rows, or use --skip-invalid to write the good ones",
    ]
    assert error_json(result) == {
        "type": "invalid", "exit_code": 3, "message": "3 of 5 rows rejected", "details": {"rejected": 3, "read": 5},
    }  # fmt: skip
    assert stored(cli) == []


def test_skip_invalid_writes_the_good_rows_and_still_fails(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(MIXED)), "--skip-invalid", "-o", "json", expect=3)
    assert report(result) == {"read": 5, "written": 2, "rejected": MIXED_REJECTED}
    assert "read 5, written 2, rejected 3" in result.stderr.splitlines()
    assert "nothing was written" not in result.stderr
    assert emails(cli) == ["ada@example.org", "alan@example.org"]


@pytest.mark.parametrize("options", [(), ("--skip-invalid",)])
def test_dry_run_validates_and_writes_nothing(cli, tmp_path, options):
    good = write(tmp_path, "good.ndjson", as_ndjson([ADA, ALAN]))
    result = cli("patient", "import", good, "--dry-run", *options, "-o", "json")
    assert report(result) == {"read": 2, "written": 0, "rejected": []}
    assert result.stderr.splitlines() == ["read 2, nothing written (dry run), rejected 0"]
    bad = cli(
        "patient", "import", write(tmp_path, "p.csv", as_csv(MIXED)), "--dry-run", *options, "-o", "json", expect=3
    )
    assert report(bad) == {"read": 5, "written": 0, "rejected": MIXED_REJECTED}
    assert stored(cli) == []
    cli("patient", "import", good)
    assert emails(cli) == ["ada@example.org", "alan@example.org"]


def test_without_json_output_stdout_stays_empty(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(MIXED)), expect=3)
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "error: 3 of 5 rows rejected"


@pytest.mark.parametrize(("options", "written"), [((), 0), (("--skip-invalid",), 3)])
def test_checks_span_batches(clinic, tmp_path, monkeypatch, options, written):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    rows = [
        {**APPOINTMENT, "start_time": "2031-01-06T10:00"},
        {**APPOINTMENT, "start_time": "2031-01-06T11:00"},
        {**APPOINTMENT, "start_time": "2031-01-06T10:15"},  # overlaps a row of the first batch
        {**APPOINTMENT, "start_time": "2031-01-06T12:00"},
        {**APPOINTMENT, "start_time": "2031-01-06T11:45", "duration_minutes": 30},  # overlaps one of the second
    ]
    result = import_rows(clinic, tmp_path, "appointment", rows, *options, fmt="csv", expect=5)
    assert report(result)["written"] == written
    assert rejected(result) == [(4, "start_time", "conflict"), (6, "start_time", "conflict")]
    assert len(appointments(clinic)) == 1 + written


@pytest.mark.parametrize("options", [(), ("--skip-invalid",)])
def test_a_late_unreadable_byte_keeps_only_whole_committed_batches(cli, tmp_path, monkeypatch, options):
    monkeypatch.setattr(imports, "BATCH_ROWS", 50)
    rows = "".join(f"P{n},Test,p{n}@example.org\n" for n in range(600))  # well past the first decoded chunk
    path = write(tmp_path, "late.csv", f"first_name,last_name,email\n{rows}".encode() + b"Bad\xff,X,bad@example.org\n")
    result = cli("patient", "import", path, *options, expect=3)
    assert "error: file: is not UTF-8 text" in result.stderr
    written = int(re.search(r"^read \d+, written (\d+), rejected 0$", result.stderr, re.MULTILINE).group(1))
    if options:
        assert written > 0 and written % 50 == 0
        assert f"stopped early: batches through line {written + 1} are committed" in result.stderr
    else:
        assert written == 0 and "stopped early: nothing was written" in result.stderr
    assert len(stored(cli)) == written


# --- round trip: list -o FORMAT re-imports into an empty database as the same records --------------------------------
# The original is a SQLite file built through the CLI; the copy is this test's database (SQLite or MariaDB).

ROUND_TRIP_PATIENTS = [
    ("Zoë", "Ångström", "Zoe.Angstrom@Example.org", "+44 20 7946 0000", "1990-02-03"),
    ("李", "小龙", "li@example.org", "(555) 123-4567", "1940-11-27"),
    ("Robert'); DROP TABLE patients;--", 'O\'Brien, "Bob"', "bobby@example.org", "555-0100 12", "2001-09-09"),
    ("🩺", "Emoji 😷", "emoji@example.org", "0123 456 789", "2020-02-29"),
]
ROUND_TRIP_BOOKINGS = [  # patient, doctor, start, duration, reason; the second is cancelled
    (1, 1, "2031-01-06T09:00", 30, "Check-up, annual"),
    (2, 1, "2031-01-06T11:00", 45, "cancelled below"),
    (2, 1, "2031-01-06T09:30", 60, 'line one\nline "two"'),
    (3, 2, "2031-07-01T09:00", 15, "Ärger 😷"),
    (4, 2, "2031-07-01T13:15Z", 180, "'); DELETE FROM appointments;--"),
]
LISTINGS = [("patient", "list"), ("doctor", "list"), ("appointment", "list", "--status", "booked", "--from", "now")]


@pytest.fixture
def original(run_cli, tmp_path):
    """`encounter` against a second database, a SQLite file of its own."""
    url = f"sqlite:///{tmp_path / 'original.db'}"
    return lambda *args, **kwargs: run_cli("--db", url, *args, **kwargs)


@pytest.fixture(scope="module")
def exports() -> dict[bool, dict[str, list[str]]]:
    """Each original clinic is built and exported once per module: {blanks: {format: [patients, doctors, bookings]}}."""
    return {}


def build_clinic(cli, blanks: bool) -> None:
    """Through the CLI: patients, doctors (the third inactive), bookings with one cancelled (a gap in the ids)."""
    for n, (first, last, email, phone, dob) in enumerate(ROUND_TRIP_PATIENTS):
        extra = [] if blanks and n % 2 == 0 else ["--phone", phone, "--dob", dob]
        cli("patient", "add", "--first-name", first, "--last-name", last, "--email", email, *extra)
    for name, specialization in [("Dr Ünïcode", "Cardiology"), ("Dr Who", "General, Family"), ("Dr Gone", "Derm")]:
        cli("doctor", "add", "--full-name", name, "--specialization", specialization)
    cli("doctor", "deactivate", "3")
    for n, (patient, doctor, start, duration, reason) in enumerate(ROUND_TRIP_BOOKINGS):
        extra = [] if blanks and n % 2 == 0 else ["--reason", reason]
        cli("appointment", "book", "--patient", str(patient), "--doctor", str(doctor), "--start", start,
            "--duration", str(duration), *extra)  # fmt: skip
    cli("appointment", "cancel", "2")


def without_stamps(records: list[dict]) -> list[dict]:
    return [{key: value for key, value in record.items() if key not in STAMPS} for record in records]


@pytest.mark.parametrize(
    ("fmt", "blanks"),
    [
        ("csv", False),
        ("json", False),
        ("ndjson", False),
        pytest.param("csv", True, id="csv-some-phones-and-reasons-empty"),
    ],
)  # fmt: skip
def test_list_output_reimports_as_the_same_records(original, exports, cli, tmp_path, fmt, blanks):
    if blanks not in exports:
        build_clinic(original, blanks)
        exports[blanks] = {form: [original(*listing, "-o", form).stdout for listing in LISTINGS] for form in ENCODE}
    for listing, exported in zip(LISTINGS, exports[blanks][fmt], strict=True):
        path = write(tmp_path, f"{listing[0]}s.{fmt}", exported)
        assert report(cli(listing[0], "import", path, "-o", "json"))["rejected"] == []
    copies = [json_out(cli(*listing, "-o", "json")) for listing in LISTINGS]
    for copy, exported in zip(copies, exports[blanks]["json"], strict=True):
        assert copy and without_stamps(copy) == without_stamps(json.loads(exported))
    # The exported appointments carried the names (ignored on import); the copies name the same people.
    assert "patient_name" in exports[blanks][fmt][2] and "doctor_name" in exports[blanks][fmt][2]
    assert [(a["patient_name"], a["doctor_name"]) for a in copies[2]] == [
        ("Zoë Ångström", "Dr Ünïcode"),
        ("李 小龙", "Dr Ünïcode"),
        ("Robert'); DROP TABLE patients;-- O'Brien, \"Bob\"", "Dr Who"),
        ("🩺 Emoji 😷", "Dr Who"),
    ]
    assert [d["is_active"] for d in copies[1]] == [True, True, False]
    assert [a["id"] for a in copies[2]] == [1, 3, 4, 5]
    # New records continue after the imported ids.
    added = cli("patient", "add", "--first-name", "N", "--last-name", "N", "--email", "n@example.org", "-o", "json")
    assert json_out(added)["id"] == 5
    booked = book(cli, {"patient_id": 5, "doctor_id": 1, "start_time": "2031-02-01T09:00", "duration_minutes": 30}, 0)
    assert json_out(booked)["id"] == 6


def test_bookings_of_a_doctor_deactivated_since_are_rejected_on_reimport(original, cli, tmp_path):
    original("patient", "add", "--first-name", "Ada", "--last-name", "L", "--email", "ada@example.org")
    for name in ("Dr A", "Dr B"):
        original("doctor", "add", "--full-name", name, "--specialization", "GP")
    for doctor, start in [(1, "2031-01-06T09:00"), (2, "2031-01-06T10:00"), (1, "2031-01-06T11:00")]:
        original("appointment", "book", "--patient", "1", "--doctor", str(doctor), "--start", start, "--duration", "30")
    original("doctor", "deactivate", "2")
    for listing in LISTINGS[:2]:
        cli(listing[0], "import", write(tmp_path, "x.csv", original(*listing, "-o", "csv").stdout))
    path = write(tmp_path, "a.csv", original(*LISTINGS[2], "-o", "csv").stdout)
    result = cli("appointment", "import", path, "--skip-invalid", "-o", "json", expect=5)
    assert json_out(result)["rejected"] == [
        {"line": 3, "field": "doctor_id", "type": "conflict", "message": "doctor 2 is inactive and cannot be booked"}
    ]
    assert [a["id"] for a in stored(cli, "appointment")] == [1, 3]


# --- bugs -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "rows"),
    [
        pytest.param(
            "patient", [ADA, {**ALAN, "phone": "555 0100 12", "date_of_birth": "1912-06-23"}], id="later-phone"
        ),
        pytest.param("patient", [{**ADA, "phone": "555 0100 12"}, ALAN], id="first-phone"),
        pytest.param("patient", [ADA, {**ALAN, "id": 50}], id="later-id"),
        pytest.param("patient", [{**ADA, "id": 50}, ALAN], id="first-id"),
        pytest.param(
            "appointment",
            [APPOINTMENT, {**APPOINTMENT, "start_time": "2031-01-07T09:00", "reason": "follow-up"}],
            id="later-reason",
        ),
    ],
)
def test_rows_with_different_optional_fields_import_as_given(cli, request, tmp_path, entity, rows):
    if entity == "appointment":
        request.getfixturevalue("clinic")
    import_rows(cli, tmp_path, entity, rows)
    records = json_out(cli(entity, "list", "-o", "json"))[-len(rows) :]
    given = [{key: value for key, value in row.items() if key != "start_time"} for row in rows]
    # Explicit ids are inserted before automatic ones, so id order may differ from file order: match by email.
    records.sort(key=lambda record: [row.get("email") for row in given].index(record.get("email")))
    assert [{key: record[key] for key in row} for row, record in zip(given, records, strict=True)] == given


def test_duplicate_email_in_a_later_batch_is_reported_as_a_duplicate_in_the_input(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    result = import_rows(cli, tmp_path, "patient", [ADA, ALAN, {**ADA, "first_name": "Again"}], expect=5)
    assert rejected(result) == [(3, "email", "conflict")]
    assert json_out(result)["rejected"][0]["message"] == (
        'email: "ada@example.org" appears twice in the input (first at line 1)'
    )


@pytest.mark.parametrize("entity", ["patient", "doctor"])
def test_an_id_beyond_the_column_range_is_invalid(cli, tmp_path, entity):
    row = ADA if entity == "patient" else {"full_name": "Dr A", "specialization": "GP"}
    result = import_rows(cli, tmp_path, entity, [{"id": 10**20, **row}], expect=3)
    assert rejected(result) == [(1, "id", "invalid")]


def test_a_dry_run_leaves_later_adds_working(cli, tmp_path):
    """A dry run inserts nothing, so it cannot use up MySQL's AUTO_INCREMENT values either."""
    import_rows(cli, tmp_path, "patient", [{"id": 2147483647, **ADA}], "--dry-run")
    cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "b@example.org")
    assert emails(cli) == ["b@example.org"]


@pytest.mark.parametrize("options", [(), ("--skip-invalid",)])
def test_an_automatic_id_never_takes_an_id_a_later_row_asks_for(cli, tmp_path, options):
    """SQLite gave the first row id 1 and then refused the second row's explicit id 1 (exit 6, "retry")."""
    path = write(tmp_path, "doctors.csv", b"id,full_name,specialization\n,Auto,GP\n1,Explicit,GP\n")
    cli("doctor", "import", path, *options)
    doctors = json_out(cli("doctor", "list", "-o", "json"))
    assert [(doctor["id"], doctor["full_name"]) for doctor in doctors] == [(1, "Explicit"), (2, "Auto")]


def test_a_rejected_row_claims_no_key_for_the_rows_after_it(cli, tmp_path):
    """Row 1 is refused for its email, so its id 5 is still free for row 2, as two `add`s would find."""
    cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "taken@example.org")
    rows = [{**ADA, "id": 5, "email": "taken@example.org"}, {**ALAN, "id": 5}]
    result = import_rows(cli, tmp_path, "patient", rows, "--skip-invalid", expect=5)
    assert rejected(result) == [(1, "email", "conflict")]
    assert [(p["id"], p["email"]) for p in json_out(cli("patient", "list", "-o", "json"))] == [
        (1, "taken@example.org"),
        (5, ALAN["email"]),
    ]
