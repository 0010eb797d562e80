"""Usage errors in the house style, messages that name the option typed, -h, and shell completion (README: Exit codes,
Shell completion)."""

from __future__ import annotations

import pytest

from tests.helpers import error_json

BOX_CHARACTERS = set("╭╮╰╯│─┏┓┗┛┃━")


@pytest.mark.parametrize("args", [("-h",), ("patient", "list", "-h"), ("doctor", "time-off", "add", "-h")])
def test_dash_h_is_help(run_cli, args):
    result = run_cli(*args)
    assert "Usage: encounter" in result.stdout
    assert result.stdout == run_cli(*args[:-1], "--help").stdout


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (("patient", "list", "--bogus"), "No such option: --bogus", "try 'encounter patient list --help'"),
        (("patient", "frobnicate"), "No such command 'frobnicate'.", "try 'encounter patient --help'"),
        (
            ("patient", "list", "--limit", "0"),
            "Invalid value for '--limit': 0 is not in the range",
            "try 'encounter patient list --help'",
        ),
        (("appointment", "book", "--doctor", "1"), "Missing option '--patient'.", None),
    ],
)
def test_usage_errors_are_one_error_line_and_a_hint(run_cli, args, message, hint):
    result = run_cli(*args, expect=2)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {message}")
    if hint:
        assert lines[1] == f"hint: {hint}"
    assert len(lines) == 2
    assert not BOX_CHARACTERS & set(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("output", "env"),
    [(("-o", "json"), {}), (("--output", "json"), {}), (("--output=json",), {}), ((), {"ENCOUNTER_OUTPUT": "json"})],
)
def test_usage_errors_print_the_json_error_line_under_json_output(run_cli, output, env):
    result = run_cli("patient", "list", *output, "--limit", "zero", expect=2, env=env)
    error = error_json(result)
    assert error["type"] == "usage"
    assert error["exit_code"] == 2
    assert error["details"] == {"option": "--limit"}
    assert error["message"].startswith("Invalid value for '--limit': 'zero'")
    assert result.stderr.splitlines()[0] == f"error: {error['message']}"


def test_usage_errors_under_table_output_print_no_json(run_cli):
    result = run_cli("patient", "list", "-o", "table", "--bogus", expect=2)
    assert "{" not in result.stderr


@pytest.mark.parametrize(
    ("args", "named", "field"),
    [
        (("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org", "--dob", "2999-01-01"),
         '--dob: "2999-01-01" must not be in the future', "date_of_birth"),
        (("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T09:00", "--duration", "5"),
         "--duration:", "duration_minutes"),
        (("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T09:00:30", "--duration",
          "30"), "--start:", "start_time"),
        (("doctor", "time-off", "add", "1", "--from", "2031-01-06T12:00", "--to", "2031-01-06T10:00"),
         "--to:", "end_time"),
        (("patient", "add", "--first-name", " ", "--last-name", "B", "--email", "a@example.org"),
         "--first-name:", "first_name"),
    ],
)  # fmt: skip
def test_messages_name_the_option_typed_and_json_keeps_the_field(cli, args, named, field):
    cli("patient", "add", "--first-name", "P", "--last-name", "Q", "--email", "p@example.org")
    cli("doctor", "add", "--full-name", "D", "--specialization", "S")
    result = cli(*args, "-o", "json", expect=3)
    assert result.stderr.startswith(f"error: {named}")
    assert error_json(result)["details"]["field"] == field


def test_import_messages_keep_the_column_names(cli, tmp_path):
    source = tmp_path / "p.csv"
    source.write_text("first_name,last_name,email,date_of_birth\nA,B,a@example.org,2999-01-01\n")
    result = cli("patient", "import", str(source), expect=3)
    assert 'date_of_birth: "2999-01-01" must not be in the future' in result.stderr
    assert "--dob" not in result.stderr


@pytest.mark.parametrize(("shell", "start"), [("bash", "_encounter_completion()"), ("zsh", "#compdef encounter"),
                                              ("fish", "complete --command encounter")])  # fmt: skip
def test_completion_scripts_for_bash_zsh_and_fish(run_cli, shell, start):
    result = run_cli(env={"_ENCOUNTER_COMPLETE": f"source_{shell}"})
    assert result.stdout.lstrip().startswith(start)
    assert "_ENCOUNTER_COMPLETE" in result.stdout


def test_completion_completes_commands_and_options(run_cli):
    env = {"_ENCOUNTER_COMPLETE": "complete_bash", "COMP_WORDS": "encounter appointment re", "COMP_CWORD": "2"}
    assert run_cli(env=env).stdout.split() == ["reschedule"]
    env = {"_ENCOUNTER_COMPLETE": "complete_bash", "COMP_WORDS": "encounter patient list --se", "COMP_CWORD": "3"}
    assert run_cli(env=env).stdout.split() == ["--search"]


def test_help_offers_completion_install(run_cli):
    assert "--install-completion" in run_cli("--help").stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("appointment", "list", "--from", "2031-01-07", "--to", "2031-01-06"),
         'error: --from: "2031-01-07T00:00:00-05:00" is later than --to (2031-01-06T00:00:00-05:00)'),
        (("doctor", "time-off", "add", "1", "--from", "2031-01-06T12:00", "--to", "2031-01-06T10:00"),
         'error: --to: "2031-01-06T10:00:00-05:00" must be later than --from (2031-01-06T12:00:00-05:00)'),
    ],
)  # fmt: skip
def test_a_rule_comparing_two_options_names_both_as_typed(cli, args, line):
    cli("doctor", "add", "--full-name", "D", "--specialization", "S")
    result = cli(*args, "-o", "json", expect=3)
    assert result.stderr.splitlines()[0] == line
    assert error_json(result)["details"]["other"] in ("to", "start_time")  # JSON keeps the fields' names


@pytest.mark.parametrize(
    "args",
    [
        ("appointment", "book", "--reason", "-ojson", "--patient", "1"),
        ("patient", "add", "--first-name", "--output=json"),
        ("patient", "list", "--search", "-o", "--bogus"),
        ("patient", "list", "--bogus", "--", "-o", "json"),
    ],
)
def test_another_options_value_never_asks_for_json(run_cli, args):
    assert "{" not in run_cli(*args, expect=2).stderr


@pytest.mark.parametrize("path", [":memory:", "-", "", " "])
def test_a_db_that_is_no_file_path_is_refused(run_cli, tmp_path, path):
    result = run_cli("--db", path, "patient", "list", expect=6)
    assert result.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []  # no stray file, and not the default database either
