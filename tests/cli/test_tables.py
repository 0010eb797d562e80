"""Tables as people see them (README: Tables): every default table one line per row at 80 columns, a record
layout below 60, plain ASCII when piped, and no escape codes under NO_COLOR or TERM=dumb."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from rich.cells import cell_len

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX_DRAWING = re.compile("[\u2500-\u257f]")
LONG_REASON = "follow-up after the cardiology referral, bring the last three blood test results " * 5
WIDE_NAME = "山田太郎"  # two cells per character


@pytest.fixture
def clinic(cli):
    """Long and wide text in every column that may be shortened: names, email, specialization, reason."""
    cli("patient", "add", "--first-name", "Maximilian-Alexander", "--last-name", "Featherstonehaugh-Cholmondeley",
        "--email", "maximilian.alexander.featherstonehaugh@example.org", "--phone", "+1 (555) 123-4567",
        "--dob", "1990-02-03")  # fmt: skip
    cli("patient", "add", "--first-name", WIDE_NAME, "--last-name", WIDE_NAME * 3, "--email", "yamada@example.org")
    cli("doctor", "add", "--full-name", "Gregory House " * 5, "--specialization", "Diagnostic medicine " * 4)
    for patient, start in ((1, "2031-01-06T09:00"), (2, "2031-01-06T23:30")):
        cli("appointment", "book", "--patient", str(patient), "--doctor", "1", "--start", start, "--duration", "60",
            "--reason", f"line one\nline two {LONG_REASON}")  # fmt: skip
    cli("doctor", "hours", "1", "--set", "mon-sun 08:00-18:00")
    cli("doctor", "time-off", "add", "1", "--from", "2031-01-07T12:00", "--to", "2031-01-08T09:00",
        "--reason", LONG_REASON)  # fmt: skip
    return cli


DEFAULT_TABLES = [
    ("patient", "list"),
    ("doctor", "list"),
    ("appointment", "list", "--date", "2031-01-06"),
    ("appointment", "list", "--from", "2031-01-01"),
    ("appointment", "slots", "--doctor", "1", "--duration", "30", "--date", "2031-01-06"),
    ("doctor", "time-off", "list", "1"),
    ("api-token", "list"),
]


def on_terminal(columns: int, **extra: str) -> dict[str, str]:
    """What Rich takes for a terminal of that width (TTY_COMPATIBLE), for CliRunner."""
    return {"TTY_COMPATIBLE": "1", "COLUMNS": str(columns), "NO_COLOR": None, "TERM": "xterm-256color", **extra}


def table_lines(text: str) -> list[str]:
    return [line.rstrip() for line in ANSI.sub("", text).splitlines()]


@pytest.mark.parametrize("args", DEFAULT_TABLES)
def test_at_80_columns_every_table_row_is_one_line(clinic, args):
    lines = table_lines(clinic(*args, env=on_terminal(80)).stdout)
    assert max(cell_len(line) for line in lines) <= 80, "\n".join(lines)
    machine = clinic(*args, "-o", "json").stdout
    rows = machine.count('"id":') if "slots" not in args else machine.count('"start_time":')
    assert len(lines) == 2 + rows  # the title, the header, one line per record


def test_at_80_columns_long_text_ends_in_an_ellipsis_and_times_are_one_span(clinic):
    lines = table_lines(clinic("appointment", "list", "--date", "2031-01-06", env=on_terminal(80)).stdout)
    assert lines[0].rstrip() == "Appointments on 2031-01-06 (America/New_York): 2"
    assert lines[1].split() == ["id", "when", "patient", "doctor", "status", "reason"]
    assert "2031-01-06 09:00\u201310:00" in lines[2] and lines[2].rstrip().endswith("\u2026")
    assert "2031-01-06 23:30\u20132031-01-07 00:30" in lines[3]  # a span past midnight gives the end's date


@pytest.mark.parametrize("args", [*DEFAULT_TABLES, ("patient", "show", "1"), ("appointment", "show", "1")])
def test_below_60_columns_records_are_listed_vertically_within_the_width(clinic, args):
    lines = table_lines(clinic(*args, env=on_terminal(50)).stdout)
    assert max(cell_len(line) for line in lines) <= 50, "\n".join(lines)
    if "list" in args and "api-token" not in args:
        assert re.match(r"id\s+1$", lines[2]), lines  # the title, a blank line, then the first record's fields


def test_a_record_shows_everything_folded_never_cut(clinic):
    shown = "".join(table_lines(clinic("appointment", "show", "1", env=on_terminal(80)).stdout))
    assert re.sub(r"\s+", "", LONG_REASON) in re.sub(r"\s+", "", shown)


@pytest.mark.parametrize("args", [*DEFAULT_TABLES, ("appointment", "show", "1"), ("schedule", "--date", "2031-01-06")])
def test_piped_tables_are_plain_ascii_one_unwrapped_line_per_row(clinic, args):
    out = clinic(*args).stdout
    assert "\x1b" not in out and not BOX_DRAWING.search(out)
    assert all(line == line.rstrip() for line in out.splitlines())
    if "list" in args and "appointment" in args:
        rows = out.splitlines()[2:]
        assert len(rows) == 2 and all(LONG_REASON.strip() in row for row in rows)  # never cut or wrapped
        assert "line one\\nline two" in rows[0]  # a line break in stored text shows as an escape
        assert "2031-01-06 09:00-10:00" in rows[0]  # ASCII between the times


def test_piped_text_without_unicode_is_pure_ascii(cli):
    cli("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.org")
    cli("doctor", "add", "--full-name", "Gregory House", "--specialization", "GP")
    cli("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T09:00", "--duration", "30")
    for args in (("appointment", "list", "--from", "2031-01-01"), ("appointment", "show", "1"), ("patient", "list")):
        assert cli(*args).stdout.isascii()


@pytest.mark.parametrize("colour_off", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
@pytest.mark.parametrize("args", [("appointment", "list", "--from", "2031-01-01"), ("patient", "show", "1"),
                                  ("schedule", "--date", "2031-01-06")])  # fmt: skip
def test_no_color_and_dumb_terminals_get_no_escape_codes_at_all(clinic, colour_off, args):
    styled = clinic(*args, env=on_terminal(80)).stdout  # 80: Rich takes a dumb terminal to be 80 columns wide
    assert "\x1b[" in styled  # the same command does style a terminal
    plain = clinic(*args, env=on_terminal(80, **colour_off)).stdout
    assert "\x1b" not in plain
    assert plain == ANSI.sub("", styled)


def test_titles_of_tables_with_times_name_the_zone(clinic):
    assert clinic("appointment", "list").stdout.startswith("Appointments (America/New_York): ")
    assert clinic("doctor", "time-off", "list", "1").stdout.startswith("Time off (America/New_York): 1")
    assert clinic("appointment", "show", "1").stdout.startswith("Appointment 1 (America/New_York)")
    assert clinic("patient", "list").stdout.startswith("Patients: 2")


@pytest.mark.skipif(not shutil.which("script"), reason="needs util-linux `script` for a pseudo-terminal")
@pytest.mark.parametrize("columns", [80, 50])
def test_a_real_terminal_gets_tables_that_fit(clinic, db_url, columns):
    command = f"stty cols {columns} rows 40; {sys.executable} -m encounter_cli --db '{db_url}' appointment list"
    env = {**os.environ, "ENCOUNTER_TIMEZONE": "America/New_York", "TERM": "xterm-256color", "COLUMNS": ""}
    env.pop("NO_COLOR", None)
    env.pop("COLUMNS")
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    lines = table_lines(done.stdout.replace("\r\n", "\n"))
    assert "\x1b[" in done.stdout  # a terminal: styled
    assert lines[0].rstrip().startswith("Appointments (America/New_York): 2")
    assert max(cell_len(line) for line in lines) <= columns


def test_help_honours_no_color_too(run_cli):
    assert "\x1b[" in run_cli("patient", "list", "--help", env=on_terminal(100)).stdout
    assert "\x1b" not in run_cli("patient", "list", "--help", env=on_terminal(100, NO_COLOR="1")).stdout
    assert "\x1b[" in run_cli("patient", "list", "--help", env=on_terminal(100)).stdout  # and only then


def test_a_list_goes_vertical_when_its_text_columns_would_be_stubs(clinic):
    """At 70 columns a span past midnight (33 cells) leaves the name columns a few cells each."""
    lines = table_lines(clinic("appointment", "list", "--date", "2031-01-06", env=on_terminal(70)).stdout)
    assert re.match(r"id\s+1$", lines[2]) and max(cell_len(line) for line in lines) <= 70
    one_day = table_lines(clinic("patient", "list", env=on_terminal(70)).stdout)
    assert one_day[1].split()[0] == "id" and len(one_day) == 4  # enough room: still a table, a line per patient
