"""`encounter appointment ...`: booking rules, time zones and listing, through CliRunner."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest

from tests.helpers import error_json, json_out


@pytest.fixture
def clinic(cli):
    """Two patients and two doctors; the clinic zone is America/New_York."""
    for n in (1, 2):
        cli("patient", "add", "--first-name", f"P{n}", "--last-name", "T", "--email", f"p{n}@example.org")
        cli("doctor", "add", "--full-name", f"Dr {n}", "--specialization", "General")
    return cli


def book(cli, start: str, duration: int = 30, doctor: int = 1, patient: int = 1, expect: int = 0, *extra: str):
    return cli(
        "appointment", "book", "--patient", str(patient), "--doctor", str(doctor), "--start", start,
        "--duration", str(duration), "-o", "json", *extra, expect=expect,
    )  # fmt: skip


def test_booking_reads_naive_times_in_the_clinic_zone(clinic):
    appointment = json_out(book(clinic, "2031-01-06T09:00", 45))
    assert appointment["start_time"] == "2031-01-06T09:00:00-05:00"
    assert appointment["end_time"] == "2031-01-06T09:45:00-05:00"
    assert (appointment["duration_minutes"], appointment["status"]) == (45, "booked")
    explicit = json_out(book(clinic, "2031-01-06T15:00Z", doctor=2))
    assert explicit["start_time"] == "2031-01-06T10:00:00-05:00"


def test_overlaps_are_conflicts_and_back_to_back_is_fine(clinic):
    book(clinic, "2031-01-06T09:00", 30)
    error = error_json(book(clinic, "2031-01-06T09:15", 30, patient=2, expect=5))
    assert error["type"] == "conflict" and error["details"]["appointment_id"] == 1
    assert "from 2031-01-06T09:00:00-05:00 to 2031-01-06T09:30:00-05:00" in error["message"]  # clinic time
    book(clinic, "2031-01-06T08:45", 30, expect=5)
    book(clinic, "2031-01-06T08:30", 120, expect=5)
    book(clinic, "2031-01-06T09:30", 30, patient=2)
    book(clinic, "2031-01-06T08:30", 30, patient=2)
    book(clinic, "2031-01-06T09:00", 30, doctor=2, patient=2)


@pytest.mark.parametrize(
    ("start", "duration", "field"),
    [
        ("2020-01-06T09:00", 30, "start_time"),
        ("2031-01-06T09:00:30", 30, "start_time"),
        ("next tuesday", 30, "start_time"),
        ("2031-01-06T09:00", 14, "duration_minutes"),
        ("2031-01-06T09:00", 181, "duration_minutes"),
    ],
)
def test_invalid_bookings_exit_3(clinic, start, duration, field):
    assert error_json(book(clinic, start, duration, expect=3))["details"]["field"] == field


def test_duration_bounds_are_inclusive(clinic):
    book(clinic, "2031-01-06T09:00", 15)
    book(clinic, "2031-01-06T10:00", 180)


def test_reason_over_500_characters_is_invalid(clinic):
    book(clinic, "2031-01-06T09:00", 30, 1, 1, 3, "--reason", "x" * 501)
    assert json_out(book(clinic, "2031-01-06T09:00", 30, 1, 1, 0, "--reason", "Ärger 😷"))["reason"] == "Ärger 😷"


@pytest.mark.parametrize(("patient", "doctor", "field"), [(9, 1, "patient_id"), (1, 9, "doctor_id")])
def test_unknown_patient_or_doctor_is_not_found(clinic, patient, doctor, field):
    error = error_json(book(clinic, "2031-01-06T09:00", 30, doctor=doctor, patient=patient, expect=4))
    assert error["details"]["field"] == field


@pytest.mark.parametrize(
    ("start", "word"),
    [("2030-03-10T02:30", "does not exist"), ("2030-11-03T01:30", "is ambiguous")],
)
def test_daylight_saving_gap_and_overlap_are_invalid_with_a_hint(clinic, start, word):
    result = book(clinic, start, expect=3)
    assert word in result.stderr and "America/New_York" in result.stderr
    assert "hint: give an explicit UTC offset" in result.stderr
    resolved = json_out(book(clinic, start + "-04:00"))
    assert datetime.fromisoformat(resolved["start_time"]) == datetime.fromisoformat(start + "-04:00")


def test_cancel_frees_the_slot_and_cannot_be_repeated(clinic):
    book(clinic, "2031-01-06T09:00")
    cancelled = json_out(clinic("appointment", "cancel", "1", "--reason", "sick", "-o", "json"))
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "sick")
    assert cancelled["cancelled_at"] is not None
    book(clinic, "2031-01-06T09:00", patient=2)
    error = error_json(clinic("appointment", "cancel", "1", "-o", "json", expect=5))
    assert error["details"]["status"] == "cancelled"
    clinic("appointment", "cancel", "99", expect=4)
    clinic("appointment", "show", "99", expect=4)


def test_list_defaults_to_booked_from_today_in_start_order(clinic):
    book(clinic, "2031-01-07T09:00")
    book(clinic, "2031-01-06T09:00")
    book(clinic, "2031-01-08T09:00")
    clinic("appointment", "cancel", "3")
    listed = json_out(clinic("appointment", "list", "-o", "json"))
    assert [a["id"] for a in listed] == [2, 1]
    everything = json_out(clinic("appointment", "list", "--doctor", "1", "-o", "json"))
    assert [a["id"] for a in everything] == [2, 1, 3]
    assert [a["id"] for a in json_out(clinic("appointment", "list", "--status", "cancelled", "-o", "json"))] == [3]
    assert [a["id"] for a in json_out(clinic("appointment", "list", "--patient", "2", "-o", "json"))] == []
    table = clinic("appointment", "list").stdout
    assert "2031-01-06 09:00" in table


def test_clinic_day_that_crosses_utc_midnight(clinic):
    # 21:30 in New York is 02:30 UTC the next day: it belongs to the local day.
    book(clinic, "2031-06-10T21:30")
    book(clinic, "2031-06-11T00:15")
    assert [a["id"] for a in json_out(clinic("appointment", "list", "--date", "2031-06-10", "-o", "json"))] == [1]
    assert [a["id"] for a in json_out(clinic("appointment", "list", "--date", "2031-06-11", "-o", "json"))] == [2]


def test_from_and_to_bound_the_start_time(clinic):
    for hour in ("08", "09", "10"):
        book(clinic, f"2031-01-06T{hour}:00")
    chosen = clinic("appointment", "list", "--from", "2031-01-06T09:00", "--to", "2031-01-06T10:00", "-o", "json")
    assert [a["id"] for a in json_out(chosen)] == [2]
    both = clinic("appointment", "list", "--date", "2031-01-06", "--from", "2031-01-06T09:00", "-o", "json")
    assert [a["id"] for a in json_out(both)] == [2, 3]
    clinic("appointment", "list", "--date", "06/01/2031", expect=3)
    clinic("appointment", "list", "--status", "lost", expect=2)


def test_today_and_tomorrow_are_accepted(clinic):
    assert json_out(clinic("appointment", "list", "--date", "today", "-o", "json")) == []
    assert json_out(clinic("appointment", "list", "--date", "tomorrow", "-o", "json")) == []


# --- names, not just ids ----------------------------------------------------------------------------------------------

NAMES = ("patient_name", "doctor_name")


def test_every_format_names_the_patient_and_the_doctor(clinic):
    booked = json_out(book(clinic, "2031-01-06T09:00", doctor=2, patient=1))
    assert list(booked)[-2:] == list(NAMES)  # appended after the stored fields
    assert (booked["patient_name"], booked["doctor_name"], booked["patient_id"]) == ("P1 T", "Dr 2", 1)
    book(clinic, "2031-01-06T10:00", doctor=1, patient=2)
    listed = json_out(clinic("appointment", "list", "-o", "json"))
    assert [(a["patient_name"], a["doctor_name"]) for a in listed] == [("P1 T", "Dr 2"), ("P2 T", "Dr 1")]
    assert listed[0] == booked
    ndjson = [json.loads(line) for line in clinic("appointment", "list", "-o", "ndjson").stdout.splitlines()]
    assert ndjson == listed
    for fmt in ("csv", "csv-safe"):
        rows = list(csv.DictReader(io.StringIO(clinic("appointment", "list", "-o", fmt).stdout)))
        assert list(rows[0])[-2:] == list(NAMES)
        assert [(r["patient_name"], r["doctor_name"]) for r in rows] == [("P1 T", "Dr 2"), ("P2 T", "Dr 1")]
    assert json_out(clinic("appointment", "show", "1", "-o", "json")) == booked
    cancelled = json_out(clinic("appointment", "cancel", "2", "-o", "json"))
    assert (cancelled["status"], cancelled["patient_name"], cancelled["doctor_name"]) == ("cancelled", "P2 T", "Dr 1")


def test_list_table_shows_names_instead_of_ids_and_show_has_both(clinic):
    book(clinic, "2031-01-06T09:00", doctor=2, patient=1)
    table = clinic("appointment", "list").stdout
    header, row = table.splitlines()[1:3]
    assert header.split() == ["id", "when", "patient", "doctor", "status", "reason"]
    assert re.split(r"\s{2,}", row)[:4] == ["1", "2031-01-06 09:00-09:30", "P1 T", "Dr 2"]
    shown = clinic("appointment", "show", "1").stdout
    for field, value in [("patient_id", "1"), ("doctor_id", "2"), ("patient_name", "P1 T"), ("doctor_name", "Dr 2")]:
        assert re.search(rf"^{field}\s+{value}$", shown, re.MULTILINE), shown
    for command in (("book", "--patient", "2", "--doctor", "1", "--start", "2031-01-06T11:00", "--duration", "30"),
                    ("cancel", "2")):  # fmt: skip
        assert re.search(r"^patient_name\s+P2 T$", clinic("appointment", *command).stdout, re.MULTILINE)


def test_names_with_rich_markup_print_literally_in_tables(cli):
    patient = ("[bold]Ann[/bold]", ":smile: [link=http://x]y[/link]")
    doctor = "[red]Dr[/] :thumbs_up: \\[x]"
    cli("patient", "add", "--first-name", patient[0], "--last-name", patient[1], "--email", "ann@example.org")
    cli("doctor", "add", "--full-name", doctor, "--specialization", "GP")
    book(cli, "2031-01-06T09:00")
    for command in (("list",), ("show", "1")):
        table = cli("appointment", *command).stdout
        assert f"{patient[0]} {patient[1]}" in table and doctor in table
        assert "😄" not in table and "👍" not in table
