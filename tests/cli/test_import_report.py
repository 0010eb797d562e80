"""What people read of an import: the columns in `import --help`, the rejection lines on stderr (escaped, capped
at 50), the number format, and the progress display at a terminal. Rules and formats: test_import_rules.py and
test_import_formats.py."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from encounter_cli.cli.imports import input_size, progress_columns
from encounter_cli.services import imports
from tests.cli import test_import_rules
from tests.cli.test_import_formats import ADA, ALAN, as_csv, as_ndjson, write
from tests.cli.test_import_rules import APPOINTMENT, import_rows
from tests.helpers import CLINIC_ZONE, copy_private, json_out

# One valid row per entity, and the values a row may add: every column an import takes.
VALID = {
    "patient": {**ADA, "id": 7, "phone": "+1 555 0100", "date_of_birth": "1815-12-10"},
    "doctor": {"full_name": "Dr A", "specialization": "GP", "id": 7, "is_active": "true"},
    "appointment": {**APPOINTMENT, "id": 7, "reason": "check-up"},
}
OUTPUT_ONLY_VALUES = {"created_at": "2030-01-01T00:00:00+00:00", "updated_at": "2030-01-01T00:00:00+00:00"}
SUMMARY_OF_120 = "read 120, written 0, rejected 120"
clinic = test_import_rules.clinic  # patients 1-2, doctors 1-2 active and 3 inactive, appointment 1 (doctor 1)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a styling escape (colour, bold, dim)


def help_columns(run_cli, entity: str) -> dict[str, list[str]]:
    """The groups of columns `ENTITY import --help` lists: {"required": [...], "optional": [...], ...}."""
    text = run_cli(entity, "import", "--help").stdout
    section = text[text.index("Columns (CSV header, JSON keys):") :].split("\n\n")[0]
    groups = re.findall(r"^\s*(required|optional|accepted and ignored): (.+?)\s*$", section, re.MULTILINE)
    return {name: names.split(", ") for name, names in groups}


# --- import --help -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", ["patient", "doctor", "appointment"])
def test_help_lists_exactly_the_columns_the_importer_accepts(run_cli, entity):
    listed = help_columns(run_cli, entity)
    importer = imports.IMPORTERS[entity](datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")), ZoneInfo(CLINIC_ZONE))
    everything = [name for names in listed.values() for name in names]
    assert sorted(everything) == sorted(importer.accepted)  # what check_columns and prepare test against
    assert set(listed["required"]) | set(listed["optional"]) == set(VALID[entity])
    assert "created_at" in listed["accepted and ignored"]


@pytest.mark.parametrize("entity", ["patient", "doctor", "appointment"])
def test_the_columns_help_calls_required_are_the_ones_a_row_cannot_leave_out(cli, tmp_path, entity):
    """Row n leaves out the nth listed column: exactly the required ones are missed, each with `is required`."""
    listed = help_columns(cli, entity)
    header = [*VALID[entity], *OUTPUT_ONLY_VALUES]
    full = {**VALID[entity], **OUTPUT_ONLY_VALUES}
    rows = [{**full, name: ""} for name in header]  # an empty CSV cell is no value
    result = cli(entity, "import", write(tmp_path, "rows.csv", as_csv(rows, header)), "--dry-run", "-o", "json",
                 expect=3)  # fmt: skip
    missing = [r["field"] for r in json_out(result)["rejected"] if r["message"] == f"{r['field']}: is required"]
    assert missing == listed["required"]


def test_a_column_the_help_does_not_list_is_refused(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", "first_name,last_name,email,nickname\n"), expect=3)
    assert 'error: header: "nickname" is not a patient field' in result.stderr.splitlines()
    assert "nickname" not in [name for names in help_columns(cli, "patient").values() for name in names]


# --- the rejection lines ------------------------------------------------------------------------------------------


def test_each_rejected_row_is_one_escaped_line(cli, tmp_path):
    rows = [
        {**ADA, "first_name": "Ada\nLine"},  # a quoted newline: this record spans lines 2-3
        {**ALAN, "first_name": "Al\tan"},
        {"first_name": "Eve\x1b[31m", "last_name": "X", "email": "eve@example.org"},
        {"first_name": "Zoë 🙂", "last_name": "Ü", "email": "zoë@"},
    ]
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(rows)), expect=3)
    rule = "must not contain control characters such as line breaks"
    assert result.stderr.splitlines() == [
        f'line 2: first_name: "Ada\\nLine" {rule}',
        f'line 4: first_name: "Al\\tan" {rule}',
        f'line 5: first_name: "Eve\\x1b[31m" {rule}',
        'line 6: email: "zoë@" is not a valid email address (There must be something after the @-sign.)',
        "read 4, written 0, rejected 4",
        "nothing was written: fix the rejected rows, or use --skip-invalid to write the good ones",
        "error: 4 of 4 rows rejected",
    ]


def test_a_ten_megabyte_value_is_one_short_line(cli, tmp_path):
    huge = "A" * 10_000_000 + "\n\x1b"
    rows = [{**ADA, "first_name": huge}, ALAN]
    result = cli("patient", "import", write(tmp_path, "p.ndjson", as_ndjson(rows)), "-o", "json", expect=3)
    [line, *rest] = result.stderr.splitlines()
    assert re.fullmatch(r'line 1: first_name: "A{77}\.\.\." must be 1 to 100 characters after trimming spaces', line)
    assert rest[0] == "read 2, written 0, rejected 1"
    assert len(json_out(result)["rejected"][0]["message"]) < 200


def test_rules_that_name_a_record_get_the_field_in_front(clinic, tmp_path):
    rows = [{**APPOINTMENT, "patient_id": 99}, {**APPOINTMENT, "doctor_id": 3}]
    result = import_rows(clinic, tmp_path, "appointment", rows, fmt="csv", expect=4)
    assert result.stderr.splitlines()[:2] == [
        "line 2: patient_id: patient 99 does not exist",
        "line 3: doctor_id: doctor 3 is inactive and cannot be booked",
    ]
    assert json_out(result)["rejected"][0]["message"] == "patient 99 does not exist"  # as `book` says it


def test_an_overlap_inside_the_file_names_the_other_line(clinic, tmp_path):
    """Rule 5 (the doctor) and rule 9 (the patient) name the earlier line; a stored booking names its id."""
    rows = [
        {**APPOINTMENT, "start_time": "2031-01-06T10:00"},  # line 2
        {**APPOINTMENT, "start_time": "2031-01-06T10:15", "patient_id": 2},  # line 3: doctor 2 is busy (line 2)
        {**APPOINTMENT, "start_time": "2031-01-06T10:15", "doctor_id": 1},  # line 4: patient 1 is busy (line 2)
        {**APPOINTMENT, "start_time": "2031-01-06T09:15", "doctor_id": 1, "patient_id": 2},  # line 5: appointment 1
    ]
    result = import_rows(clinic, tmp_path, "appointment", rows, fmt="csv", expect=5)
    assert result.stderr.splitlines()[:3] == [
        "line 3: start_time: doctor 2 is already booked from 2031-01-06T10:00:00-05:00 to 2031-01-06T10:30:00-05:00"
        " (line 2 of this input)",
        "line 4: start_time: patient 1 is already booked from 2031-01-06T10:00:00-05:00 to 2031-01-06T10:30:00-05:00"
        " (line 2 of this input)",
        "line 5: start_time: doctor 1 is already booked from 2031-01-06T09:00:00-05:00 to 2031-01-06T09:30:00-05:00"
        " (appointment 1)",
    ]


def test_repeated_keys_name_the_first_line(cli, tmp_path):
    rows = [{**ADA, "id": 5}, {**ALAN, "id": 5}, {**ADA, "first_name": "Other", "id": 6}]
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(rows)), expect=5)
    assert result.stderr.splitlines()[:2] == [
        'line 3: id: "5" appears twice in the input (first at line 2)',
        'line 4: email: "ada@example.org" appears twice in the input (first at line 2)',
    ]


# --- at most 50 lines, and one number format --------------------------------------------------------------------


def bad_emails(count: int) -> list[dict]:
    return [{**ADA, "email": f"p{n}@"} for n in range(count)]


def test_at_most_fifty_rejections_on_stderr(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(bad_emails(120))), "-o", "json", expect=3)
    lines = result.stderr.splitlines()
    assert [int(line.split(":")[0].removeprefix("line ")) for line in lines[:50]] == list(range(2, 52))
    assert lines[50:53] == ["… and 70 more (-o json lists all)", SUMMARY_OF_120, lines[52]]
    assert lines[52].startswith("nothing was written")
    assert [r["line"] for r in json_out(result)["rejected"]] == list(range(2, 122))


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_machine_formats_list_every_rejection(cli, tmp_path, fmt):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(bad_emails(120))), "-o", fmt, expect=3)
    if fmt == "ndjson":
        assert len(json.loads(result.stdout)["rejected"]) == 120
    else:
        assert len(result.stdout.splitlines()) == 1 + 120
    assert "… and 70 more (-o json lists all)" in result.stderr.splitlines()


def test_fifty_rejections_need_no_more_line(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", as_csv(bad_emails(50))), expect=3)
    assert result.stderr.splitlines()[50] == "read 50, written 0, rejected 50"


def test_reimporting_twenty_thousand_rows_prints_fifty_lines_and_a_count(cli, tmp_path):
    rows = [{"first_name": f"Zoë{n}", "last_name": "Ü", "email": f"p{n}@example.org"} for n in range(20_000)]
    path = write(tmp_path, "p.csv", as_csv(rows))
    assert cli("patient", "import", path).stderr.splitlines() == ["read 20,000, written 20,000, rejected 0"]
    result = cli("patient", "import", path, "-o", "json", expect=5)
    lines = result.stderr.splitlines()
    assert lines[0] == 'line 2: email: "p0@example.org" is already used by another patient'
    assert lines[50:52] == ["… and 19,950 more (-o json lists all)", "read 20,000, written 0, rejected 20,000"]
    assert lines[52:54] == [
        "nothing was written: fix the rejected rows, or use --skip-invalid to write the good ones",
        "error: 20,000 of 20,000 rows rejected",
    ]
    assert len(lines) == 55 and json.loads(lines[54])["error"]["message"] == "20,000 of 20,000 rows rejected"
    assert json.loads(lines[54])["error"]["details"] == {"rejected": 20_000, "read": 20_000}
    assert len(json_out(result)["rejected"]) == 20_000


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENCOUNTER_", "NO_COLOR", "PYTHONIOENCODING"))}
    config = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return {**env, **config, "ENCOUNTER_TIMEZONE": CLINIC_ZONE, **extra}


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> str:
    return f"sqlite:///{copy_private(sqlite_template, tmp_path / 'clinic.db')}"


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["ascii", "ascii:strict"])
def test_an_ascii_stderr_gets_three_dots_and_escapes(sqlite_db, tmp_path, encoding):
    rows = [{**ADA, "email": "zoë@"}, *bad_emails(60)]
    command = [sys.executable, "-m", "encounter_cli", "--db", sqlite_db, "patient", "import"]
    env = subprocess_env(tmp_path, PYTHONIOENCODING=encoding)
    done = subprocess.run([*command, write(tmp_path, "p.csv", as_csv(rows))], env=env, capture_output=True)
    lines = done.stderr.decode("ascii").splitlines()
    assert done.returncode == 3, lines
    rule = "is not a valid email address (There must be something after the @-sign.)"
    assert lines[0] == f'line 2: email: "zo\\xeb@" {rule}'
    assert lines[50:52] == ["... and 11 more (-o json lists all)", "read 61, written 0, rejected 61"]


# --- progress ------------------------------------------------------------------------------------------------------


def test_a_regular_file_has_a_size_and_gets_a_bar(tmp_path):
    path = Path(write(tmp_path, "p.csv", as_csv([ADA, ALAN])))
    with path.open("rb") as stream:
        assert input_size(stream) == path.stat().st_size
    kinds = [type(column).__name__ for column in progress_columns(path.stat().st_size)]
    assert kinds == ["TextColumn", "BarColumn", "TaskProgressColumn", "TimeRemainingColumn"]


def test_a_pipe_or_an_unknown_size_gets_a_spinner(tmp_path):
    reader, writer = os.pipe()
    with os.fdopen(reader, "rb") as pipe, os.fdopen(writer, "wb"):
        assert input_size(pipe) is None
    assert input_size(io.BytesIO(b"first_name\n")) is None  # no file descriptor
    with Path(write(tmp_path, "empty.csv", "")).open("rb") as empty:
        assert input_size(empty) is None
    with Path(os.devnull).open("rb") as device:
        assert input_size(device) is None
    kinds = [type(column).__name__ for column in progress_columns(None)]
    assert kinds == ["SpinnerColumn", "TextColumn", "TimeElapsedColumn"]


def at_a_terminal(tmp_path: Path, db: str, args: list[str], *, stdin: bytes | None = None, **env: str) -> str:
    """Run encounter with stderr on a pseudo-terminal (stdout a pipe): everything it drew there."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "encounter_cli", "--db", db, *args]
    environment = subprocess_env(tmp_path, **{"COLUMNS": "100", "TERM": "xterm-256color", **env})
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=terminal, env=environment
    ) as process:
        os.close(terminal)
        process.stdin.write(stdin or b"")  # type: ignore[union-attr]
        process.stdin.close()  # type: ignore[union-attr]
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end closed: the process is done
                break
            if not chunk:
                break
            drawn += chunk
        process.wait()
    os.close(controller)
    return drawn.decode("utf-8", "replace")


@pytest.mark.slow
def test_a_file_shows_a_bar_with_percentage_and_a_pipe_a_count(sqlite_db, tmp_path):
    path = write(tmp_path, "p.csv", as_csv([ADA, ALAN]))
    drawn = at_a_terminal(tmp_path, sqlite_db, ["patient", "import", path])
    assert "100%" in drawn and "2 rows read" in drawn and SGR.search(drawn)
    assert drawn.rstrip().endswith("read 2, written 2, rejected 0")
    piped = as_csv([{**ADA, "email": "a2@example.org"}]).encode()
    drawn = at_a_terminal(tmp_path, sqlite_db, ["patient", "import", "-", "--format", "csv"], stdin=piped)
    assert "1 rows read" in drawn and "%" not in drawn


@pytest.mark.slow
def test_no_color_and_a_dumb_terminal_get_no_styling(sqlite_db, tmp_path):
    path = write(tmp_path, "p.csv", as_csv([ADA, ALAN]))
    drawn = at_a_terminal(tmp_path, sqlite_db, ["patient", "import", path, "--dry-run"], NO_COLOR="1")
    assert "100%" in drawn and not SGR.search(drawn)
    drawn = at_a_terminal(tmp_path, sqlite_db, ["patient", "import", path, "--dry-run"], TERM="dumb")
    assert drawn.splitlines() == ["read 2, nothing written (dry run), rejected 0"]
