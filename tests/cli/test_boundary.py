"""The CLI boundary against hostile input: year limits, strict dates, invisible names, conflicting
flags, escape sequences, a full disk, spreadsheet formulas; and db/import reports in every format."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from encounter_cli.csv_cells import unescape_formula
from tests.conftest import error_json, json_out

BERLIN = {"ENCOUNTER_TIMEZONE": "Europe/Berlin"}
ESC = "\x1b"


@pytest.fixture
def clinic(cli):
    cli("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.org")
    cli("doctor", "add", "--full-name", "Dr Who", "--specialization", "General")
    return cli


def book(cli, start: str, expect: int = 0, env: dict | None = None):
    args = ("appointment", "book", "--patient", "1", "--doctor", "1", "--start", start, "--duration", "30")
    return cli(*args, "-o", "json", expect=expect, env=env)


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


# --- D1: times near year 1 or 9999 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "env"),
    [
        ("9999-12-31T23:30", None),
        ("0001-01-01T00:30+01:00", None),
        ("9999-12-31T23:15Z", BERLIN),  # was stored, and then broke every list and export
        ("9998-12-31T23:15Z", BERLIN),  # its clinic wall clock is in 9999
    ],
)
def test_bookings_outside_years_1_to_9998_are_invalid_and_not_stored(clinic, start, env):
    error = error_json(book(clinic, start, expect=3, env=env))
    assert error["details"]["field"] == "start_time"
    assert "outside the supported years 1 to 9998" in error["message"]
    assert json_out(clinic("appointment", "list", "--doctor", "1", "-o", "json", env=env)) == []


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--from", "9999-12-31T23:30", "from"),
        ("--to", "9999-12-31", "to"),
        ("--from", "0001-01-01", "from"),
        ("--date", "9999-12-31", "date"),
        ("--date", "0001-01-01", "date"),
    ],
)
def test_list_bounds_outside_the_supported_years_are_invalid(clinic, option, value, field):
    result = clinic("appointment", "list", option, value, "-o", "json", expect=3, env=BERLIN)
    assert error_json(result)["details"]["field"] == field


def test_an_import_row_outside_the_supported_years_is_rejected(clinic, tmp_path):
    rows = "patient_id,doctor_id,start_time,duration_minutes\n1,1,2031-01-06T09:00,30\n1,1,9999-12-31T23:30,30\n"
    result = clinic("appointment", "import", write(tmp_path, "a.csv", rows), "-o", "json", expect=3)
    [rejection] = json_out(result)["rejected"]
    assert (rejection["line"], rejection["field"], rejection["type"]) == (3, "start_time", "invalid")
    assert "outside the supported years" in rejection["message"]


# --- D13: one strict calendar form ------------------------------------------------------------


@pytest.mark.parametrize("dob", ["2000-W01-1", "20000101", "2000-001"])
def test_dates_of_birth_are_yyyy_mm_dd_only(clinic, dob):
    add = ("patient", "add", "--first-name", "B", "--last-name", "C", "--email", "b@example.org", "--dob", dob)
    assert error_json(clinic(*add, "-o", "json", expect=3))["details"]["field"] == "date_of_birth"
    assert error_json(clinic("patient", "update", "1", "--dob", dob, "-o", "json", expect=3))["details"]["field"] == (
        "date_of_birth"
    )


@pytest.mark.parametrize("day", ["20270310", "2027-W10-3", "2027-069"])
def test_list_dates_are_yyyy_mm_dd_only(clinic, day):
    assert (
        error_json(clinic("appointment", "list", "--date", day, "-o", "json", expect=3))["details"]["field"] == "date"
    )
    assert (
        error_json(clinic("appointment", "list", "--from", day, "-o", "json", expect=3))["details"]["field"] == "from"
    )


# --- D14: names without a visible character ---------------------------------------------------


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u00ad", "\u2060\u200d", "\u3164"])
def test_names_must_show_something(cli, invisible):
    doctor = ("doctor", "add", "--full-name", invisible, "--specialization", "General", "-o", "json")
    assert error_json(cli(*doctor, expect=3))["details"]["field"] == "full_name"
    doctor = ("doctor", "add", "--full-name", "Dr Who", "--specialization", invisible, "-o", "json")
    assert error_json(cli(*doctor, expect=3))["details"]["field"] == "specialization"
    patient = ("patient", "add", "--first-name", invisible, "--last-name", "L", "--email", "a@example.org")
    assert "must contain a visible character" in cli(*patient, expect=3).stderr
    assert json_out(cli("doctor", "list", "-o", "json")) == []


# --- D17: contradictory flags -----------------------------------------------------------------


def test_active_and_inactive_together_are_a_usage_error(clinic):
    result = clinic("doctor", "list", "--active", "--inactive", expect=2)
    assert "--active" in result.stderr and "--inactive" in result.stderr
    assert [d["id"] for d in json_out(clinic("doctor", "list", "--active", "-o", "json"))] == [1]
    assert json_out(clinic("doctor", "list", "--inactive", "-o", "json")) == []


# --- D11: escape sequences never reach the terminal -------------------------------------------


def store(db_url: str, statement: str, **values) -> None:
    """Write a row as another tool sharing the database might: past encounter's input rules."""
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(statement), values)
    engine.dispose()


HOSTILE_NAME = f"Evil{ESC}[2J{ESC}]0;owned\x07\x9b31m"


def test_stored_escape_sequences_print_as_visible_text_in_tables(clinic, db_url):
    store(db_url, "UPDATE doctors SET fullName = :name WHERE id = 1", name=HOSTILE_NAME)
    for args in (("doctor", "list"), ("doctor", "show", "1")):
        table = clinic(*args).stdout
        assert ESC not in table and "\x07" not in table and "\x9b" not in table
        assert "Evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m" in table
    # Machine formats stay exact.
    assert json_out(clinic("doctor", "show", "1", "-o", "json"))["full_name"] == HOSTILE_NAME
    assert json.loads(clinic("doctor", "list", "-o", "ndjson").stdout)["full_name"] == HOSTILE_NAME
    assert list(csv.DictReader(io.StringIO(clinic("doctor", "list", "-o", "csv").stdout)))[0]["full_name"] == (
        HOSTILE_NAME
    )


def test_a_reason_keeps_its_line_breaks_in_a_table_but_not_its_escapes(clinic, db_url):
    book(clinic, "2031-01-06T09:00")
    store(db_url, "UPDATE appointments SET reason = :reason", reason=f"first line\r\nsecond {ESC}[31mred")
    table = clinic("appointment", "show", "1").stdout
    assert ESC not in table and "\r" not in table
    lines = table.splitlines()
    assert any("first line" in line for line in lines) and any("second \\x1b[31mred" in line for line in lines)


def test_typed_escape_sequences_are_escaped_in_error_messages(clinic):
    add = ("patient", "add", "--first-name", "B", "--last-name", "C", "--email", f"{ESC}[2Jbob@", "-o", "json")
    result = clinic(*add, expect=3)
    human = result.stderr.splitlines()[0]
    assert human.startswith('error: --email: "\\x1b[2Jbob@"') and ESC not in human
    assert error_json(result)["details"]["value"] == f"{ESC}[2Jbob@"  # the JSON line keeps the exact value


def test_import_rejections_on_stderr_are_escaped(clinic, tmp_path):
    path = write(tmp_path, "p.csv", f"first_name,last_name,email\nA,B,{ESC}[2J@example.org\n")
    result = clinic("patient", "import", path, expect=3)
    assert ESC not in result.stderr
    assert 'line 2: email: "\\x1b[2J@example.org"' in result.stderr


# --- D15: a full disk is an output error, not a bug -------------------------------------------

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")


def run_into_full_disk(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "ENCOUNTER_TIMEZONE": "UTC"}
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "encounter_cli", "--db", url, *args],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )


@needs_dev_full
def test_a_full_disk_after_a_write_exits_6_and_says_the_change_was_saved(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'full.db'}"
    add = ("patient", "add", "--first-name", "Ada", "--last-name", "L", "--email", "ada@example.org", "-o", "json")
    result = run_into_full_disk(tmp_path, url, *add)
    assert result.returncode == 6, result.stderr
    assert result.stderr.splitlines()[1] == "error: cannot write the output: No space left on device"
    assert "the change itself was saved (patient 1 added)" in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["error"]["type"] == "unavailable"
    assert [p["email"] for p in json_out(run_cli("--db", url, "patient", "list", "-o", "json"))] == ["ada@example.org"]


@needs_dev_full
@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_a_full_disk_during_a_long_export_exits_6(run_cli, tmp_path, fmt):
    url = f"sqlite:///{tmp_path / 'full.db'}"
    rows = "".join(f"P{n},Full,p{n}@example.org\n" for n in range(2000))
    run_cli("--db", url, "patient", "import", write(tmp_path, "p.csv", "first_name,last_name,email\n" + rows))
    result = run_into_full_disk(tmp_path, url, "patient", "list", "-o", fmt)
    assert result.returncode == 6, result.stderr
    assert result.stderr.startswith("error: cannot write the output: No space left on device\n")
    assert "saved" not in result.stderr  # nothing was changed
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


# --- D4: CSV cells a spreadsheet would run ----------------------------------------------------

FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'


def test_csv_safe_prefixes_formula_cells_and_unescapes_to_the_exact_values(clinic):
    clinic("patient", "update", "1", "--first-name", FORMULA_NAME, "--last-name", "'=quoted", "--phone", "+44 20 7946")
    clinic("doctor", "add", "--full-name", "@risk", "--specialization", "-minus")
    exact = json_out(clinic("patient", "list", "-o", "json"))
    safe = list(csv.DictReader(io.StringIO(clinic("patient", "list", "-o", "csv-safe").stdout)))
    assert (safe[0]["first_name"], safe[0]["last_name"], safe[0]["phone"]) == (
        "'" + FORMULA_NAME,
        "''=quoted",
        "'+44 20 7946",
    )
    assert {key: unescape_formula(value) for key, value in safe[0].items()}["first_name"] == exact[0]["first_name"]
    assert unescape_formula(safe[0]["last_name"]) == "'=quoted"
    doctors = list(csv.DictReader(io.StringIO(clinic("doctor", "list", "-o", "csv-safe").stdout)))
    assert (doctors[1]["full_name"], doctors[1]["specialization"]) == ("'@risk", "'-minus")


def test_plain_csv_stays_exact_except_what_import_would_misread(clinic):
    clinic("patient", "update", "1", "--first-name", FORMULA_NAME, "--last-name", "'=quoted", "--phone", "+44 20 7946")
    plain = list(csv.DictReader(io.StringIO(clinic("patient", "list", "-o", "csv").stdout)))[0]
    assert (plain["first_name"], plain["phone"]) == (FORMULA_NAME, "+44 20 7946")
    assert plain["last_name"] == "''=quoted" and unescape_formula(plain["last_name"]) == "'=quoted"


@pytest.mark.parametrize("fmt", ["csv", "csv-safe"])
def test_csv_and_csv_safe_exports_reimport_as_the_exact_values(clinic, run_cli, tmp_path, fmt):
    clinic("patient", "update", "1", "--first-name", FORMULA_NAME, "--last-name", "'=quoted", "--phone", "+44 20 7946")
    clinic("patient", "add", "--first-name", "'plain", "--last-name", "-dash", "--email", "b@example.org")
    exported = tmp_path / "patients.csv"
    exported.write_text(clinic("patient", "list", "-o", fmt).stdout, encoding="utf-8")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    run_cli("--db", fresh, "patient", "import", str(exported))

    def values(result):  # import stamps its own created_at/updated_at
        return [{k: v for k, v in row.items() if not k.endswith("_at")} for row in json_out(result)]

    assert values(run_cli("--db", fresh, "patient", "list", "-o", "json")) == values(
        clinic("patient", "list", "-o", "json")
    )


def test_csv_safe_is_an_output_format_of_every_printing_command(clinic):
    book(clinic, "2031-01-06T09:00")
    for args in (("patient", "show", "1"), ("doctor", "show", "1"), ("appointment", "list"), ("db", "info")):
        assert clinic(*args, "-o", "csv-safe").stdout.count("\n") == 2


# --- Part 2: reports in every format, bounded ids ---------------------------------------------


def test_db_info_in_every_format(clinic):
    facts = json.loads(clinic("db", "info", "-o", "json").stdout)
    assert facts["tables"] == {
        "patients": 1,
        "doctors": 1,
        "appointments": 0,
        "apiTokens": 0,
        "doctorHours": 0,
        "doctorTimeOff": 0,
        "auditLog": 2,  # the patient and the doctor added
    }
    assert json.loads(clinic("db", "info", "-o", "ndjson").stdout) == facts
    assert clinic("db", "info", "-o", "ndjson").stdout.count("\n") == 1
    [row] = list(csv.DictReader(io.StringIO(clinic("db", "info", "-o", "csv").stdout)))
    assert row == {
        "url": facts["url"],
        "dialect": facts["dialect"],
        "timezone": facts["timezone"],
        "tables.patients": "1",
        "tables.doctors": "1",
        "tables.appointments": "0",
        "tables.apiTokens": "0",
        "tables.doctorHours": "0",
        "tables.doctorTimeOff": "0",
        "tables.auditLog": "2",
    }
    table = clinic("db", "info").stdout
    assert "dialect" in table and facts["dialect"] in table and "appointments" in table


def test_db_check_in_every_format(clinic):
    assert json.loads(clinic("db", "check", "-o", "ndjson").stdout)["matches"] is True
    [row] = list(csv.DictReader(io.StringIO(clinic("db", "check", "-o", "csv").stdout)))
    assert (row["matches"], row["differences"]) == ("true", "")
    assert clinic("db", "check").stdout.startswith("schema matches the models in ")


def test_import_report_formats(clinic, tmp_path):
    path = write(tmp_path, "p.csv", "first_name,last_name,email\nA,B,a@example.org\nC,D,=bad\n")
    report = json_out(clinic("patient", "import", path, "--dry-run", "-o", "json", expect=3))
    assert list(report) == ["read", "written", "rejected", "valid", "dry_run"]
    assert (report["read"], report["valid"], report["dry_run"]) == (2, 1, True)
    ndjson = clinic("patient", "import", path, "--dry-run", "-o", "ndjson", expect=3).stdout
    assert ndjson.count("\n") == 1 and json.loads(ndjson) == report
    rows = list(
        csv.DictReader(io.StringIO(clinic("patient", "import", path, "--dry-run", "-o", "csv", expect=3).stdout))
    )
    assert rows == [{key: str(value) for key, value in rejection.items()} for rejection in report["rejected"]]
    safe = clinic("patient", "import", path, "--dry-run", "-o", "csv-safe", expect=3).stdout
    assert list(csv.reader(io.StringIO(safe)))[0] == ["line", "field", "type", "message"]
    assert clinic("patient", "import", path, "--dry-run", expect=3).stdout == ""


@pytest.mark.parametrize("option", ["--patient", "--doctor"])
@pytest.mark.parametrize("value", ["0", "-1", "2147483648"])
def test_ids_out_of_range_are_usage_errors_for_book_and_list(clinic, option, value):
    args = {"--patient": "1", "--doctor": "1", option: value}
    flat = [part for pair in args.items() for part in pair]
    book_args = ("appointment", "book", *flat, "--start", "2031-01-06T09:00", "--duration", "30")
    assert option in clinic(*book_args, expect=2).stderr
    assert option in clinic("appointment", "list", option, value, expect=2).stderr
    clinic("patient", "show", value, expect=2)


def test_machine_field_order_follows_the_models(clinic):
    book(clinic, "2031-01-06T09:00")
    headers = {
        entity: clinic(entity, "list", "-o", "csv").stdout.splitlines()[0] for entity in ("doctor", "appointment")
    }
    assert headers == {
        "doctor": "id,full_name,specialization,is_active,created_at,updated_at",
        "appointment": "id,patient_id,doctor_id,start_time,end_time,duration_minutes,status,reason,"
        "cancelled_at,cancellation_reason,created_at,updated_at,patient_name,doctor_name",  # output-only last
    }
    assert list(json_out(clinic("appointment", "show", "1", "-o", "json"))) == headers["appointment"].split(",")


# --- appointment list: a filter that cannot mean anything is an error, not an empty list ------


def test_from_later_than_to_is_invalid(clinic):
    result = clinic("appointment", "list", "--from", "2031-01-07", "--to", "2031-01-06", "-o", "json", expect=3)
    assert error_json(result)["message"] == (
        'from: "2031-01-07T00:00:00-05:00" is later than to (2031-01-06T00:00:00-05:00)'
    )


@pytest.mark.parametrize(("option", "entity"), [("--doctor", "doctor"), ("--patient", "patient")])
def test_a_list_by_an_unknown_doctor_or_patient_is_not_found(clinic, option, entity):
    result = clinic("appointment", "list", option, "999", "-o", "json", expect=4)
    assert error_json(result)["message"] == f"{entity} 999 does not exist"
