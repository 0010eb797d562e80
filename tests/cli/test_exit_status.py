"""Every exit code (README: Exit codes), and the machine-readable error line."""

from __future__ import annotations

import pytest

from encounter_cli.cli.errors import ExitStatus
from tests.helpers import error_json


def test_exit_codes_never_change():
    assert {s.name: int(s) for s in ExitStatus} == {
        "SUCCESS": 0, "INTERNAL": 1, "USAGE": 2, "INVALID": 3, "NOT_FOUND": 4,
        "CONFLICT": 5, "UNAVAILABLE": 6, "INTERRUPTED": 130,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "nope"), 3, "invalid"),
        (("doctor", "show", "5"), 4, "not_found"),
        (("appointment", "cancel", "5"), 4, "not_found"),
    ],
)
def test_error_codes_and_json_error_object(cli, args, code, kind):
    result = cli(*args, "-o", "json", expect=code)
    error = error_json(result)
    assert (error["type"], error["exit_code"]) == (kind, code)
    assert error["message"] in result.stderr.splitlines()[0]
    assert result.stdout == ""


def test_conflict_is_5(cli):
    cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    error = error_json(
        cli(
            "patient",
            "add",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--email",
            "a@example.org",
            "-o",
            "json",
            expect=5,
        )
    )
    assert error["type"] == "conflict"


def test_usage_errors_are_2(run_cli):
    run_cli("patient", "frobnicate", expect=2)
    run_cli("--no-such-option", expect=2)
    run_cli("appointment", "book", "--patient", "x", "--doctor", "1", "--start", "now", "--duration", "30", expect=2)


def test_unavailable_is_6(run_cli, tmp_path):
    error = error_json(run_cli("--db", "postgresql://u@h/db", "patient", "list", "-o", "json", expect=6))
    assert error["type"] == "unavailable"
    run_cli("--db", "mysql:/not-a-url", "patient", "list", expect=6)
    run_cli("--db", f"sqlite:///{tmp_path}/missing-dir-is-a-file/x.db", "patient", "list", expect=0)


def test_interrupt_is_130_and_writes_nothing(cli, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("encounter_cli.services.patients.stamp", interrupted)
    result = cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org", expect=130)
    assert "interrupted" in result.stderr
    monkeypatch.undo()
    assert cli("patient", "list", "-o", "csv").stdout.count("\n") == 1


def test_internal_error_is_1_with_a_hint_and_traceback_only_with_debug(cli, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("secret detail")

    monkeypatch.setattr("encounter_cli.services.get_patient", broken)
    result = cli("patient", "show", "1", "-o", "json", expect=1)
    assert "please report it" in result.stderr
    assert "Traceback" not in result.stderr and "secret detail" not in result.stderr
    assert error_json(result)["type"] == "internal"
    debug = cli("--debug", "patient", "show", "1", expect=1)
    assert "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr


def test_debug_shows_the_traceback_of_expected_errors_too(cli):
    result = cli("--debug", "patient", "show", "3", expect=4)
    assert "Traceback" in result.stderr and "NotFound" in result.stderr


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_export_quietly(run_cli, tmp_path):
    """`encounter patient list -o csv | head -1` must not print a traceback or an internal error."""
    import os
    import subprocess
    import sys

    rows = "\n".join(f"P{n},Pipe,p{n}@example.org" for n in range(3000))
    (tmp_path / "p.csv").write_text("first_name,last_name,email\n" + rows + "\n")
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    run_cli("--db", url, "patient", "import", str(tmp_path / "p.csv"))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "ENCOUNTER_TIMEZONE": "UTC"}
    command = [sys.executable, "-m", "encounter_cli", "--db", url, "patient", "list", "-o", "csv"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"id,first_name")
    process.stdout.close()  # like `head -1`
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
