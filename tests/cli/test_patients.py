"""`encounter patient ...` through CliRunner, on SQLite and MariaDB."""

from __future__ import annotations

import csv
import io
import json
from datetime import timezone

import pytest

from tests.helpers import error_json, json_out

ADA = ("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "Ada@Example.org")


def test_add_prints_the_stored_record(cli):
    patient = json_out(cli(*ADA, "--phone", "+44 20 7946 0000", "--dob", "1815-12-10", "-o", "json"))
    assert patient["id"] == 1
    assert patient["email"] == "ada@example.org"
    assert patient["date_of_birth"] == "1815-12-10"
    assert patient["phone"] == "+44 20 7946 0000"
    assert set(patient) == {
        "id", "first_name", "last_name", "email", "phone", "date_of_birth", "created_at", "updated_at",
    }  # fmt: skip
    assert json_out(cli("patient", "show", "1", "-o", "json")) == patient


def test_duplicate_email_is_a_conflict_whatever_the_case(cli):
    cli(*ADA)
    result = cli(
        "patient", "add", "--first-name", "B", "--last-name", "C", "--email", "ADA@example.ORG", "-o", "json", expect=5
    )
    error = error_json(result)
    assert error["type"] == "conflict" and error["exit_code"] == 5
    assert error["details"]["field"] == "email"
    assert len(json_out(cli("patient", "list", "-o", "json"))) == 1


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--email", "bob@", "email"),
        ("--first-name", "   ", "first_name"),
        ("--last-name", "x" * 101, "last_name"),
        ("--phone", "12ab", "phone"),
        ("--dob", "2999-01-01", "date_of_birth"),
        ("--dob", "01/02/1990", "date_of_birth"),
    ],
)
def test_invalid_values_exit_3_naming_the_option_typed(cli, option, value, field):
    args = dict(zip(ADA[2::2], ADA[3::2], strict=True))
    args[option] = value
    flat = [part for pair in args.items() for part in pair]
    result = cli("patient", "add", *flat, "-o", "json", expect=3)
    assert result.stderr.startswith(f"error: {option}:")
    assert error_json(result)["details"]["field"] == field
    assert json_out(cli("patient", "list", "-o", "json")) == []


def test_human_message_names_field_and_rule(cli):
    result = cli("patient", "add", "--first-name", "B", "--last-name", "C", "--email", "bob@", expect=3)
    assert 'error: --email: "bob@" is not a valid email address' in result.stderr
    assert result.stdout == ""


def test_missing_required_option_is_a_usage_error(cli):
    cli("patient", "add", "--first-name", "Ada", expect=2)


def test_show_missing_patient_is_not_found(cli):
    result = cli("patient", "show", "42", "-o", "json", expect=4)
    assert error_json(result) == {
        "type": "not_found", "exit_code": 4, "message": "patient 42 does not exist",
        "details": {"field": "id", "entity": "patient", "id": 42},
    }  # fmt: skip


def test_unparseable_id_is_a_usage_error(cli):
    cli("patient", "show", "abc", expect=2)


def test_update_changes_only_given_fields(cli):
    cli(*ADA, "--phone", "0123 456 789")
    updated = json_out(cli("patient", "update", "1", "--last-name", "King", "-o", "json"))
    assert (updated["first_name"], updated["last_name"], updated["phone"]) == ("Ada", "King", "0123 456 789")
    cleared = json_out(cli("patient", "update", "1", "--phone", "", "-o", "json"))
    assert cleared["phone"] is None


def test_update_to_a_taken_email_is_a_conflict(cli):
    cli(*ADA)
    cli("patient", "add", "--first-name", "Bob", "--last-name", "B", "--email", "bob@example.org")
    cli("patient", "update", "2", "--email", "ADA@example.org", expect=5)
    cli("patient", "update", "2", expect=3)
    cli("patient", "update", "9", "--first-name", "X", expect=4)


@pytest.mark.parametrize(
    "name",
    ["Robert'); DROP TABLE patients;--", "Zoë Ångström", "李小龙", 'O\'Brien "Bob" 50%_off', "🩺 Doc"],
)
def test_sql_metacharacters_and_unicode_are_stored_verbatim(cli, name):
    cli("patient", "add", "--first-name", name, "--last-name", "Ünïcode", "--email", "x@example.org")
    stored = json_out(cli("patient", "show", "1", "-o", "json"))
    assert (stored["first_name"], stored["last_name"]) == (name, "Ünïcode")
    assert [p["first_name"] for p in json_out(cli("patient", "list", "--search", name, "-o", "json"))] == [name]


def test_search_treats_like_wildcards_literally(cli):
    cli(*ADA)
    cli("patient", "add", "--first-name", "50%", "--last-name", "Off", "--email", "sale@example.org")
    assert [p["id"] for p in json_out(cli("patient", "list", "--search", "%", "-o", "json"))] == [2]
    assert [p["id"] for p in json_out(cli("patient", "list", "--search", "LOVE", "-o", "json"))] == [1]


def add_patients(cli, count: int) -> None:
    for n in range(1, count + 1):
        cli("patient", "add", "--first-name", f"P{n}", "--last-name", "Test", "--email", f"p{n}@example.org")


def test_list_formats_agree(cli):
    add_patients(cli, 3)
    as_json = json_out(cli("patient", "list", "-o", "json"))
    as_ndjson = [json.loads(line) for line in cli("patient", "list", "-o", "ndjson").stdout.splitlines()]
    as_csv = list(csv.DictReader(io.StringIO(cli("patient", "list", "-o", "csv").stdout)))
    assert [p["id"] for p in as_json] == [1, 2, 3]
    assert as_ndjson == as_json
    assert [row["email"] for row in as_csv] == [p["email"] for p in as_json]
    assert as_csv[0]["phone"] == "" and as_csv[0]["id"] == "1"
    table = cli("patient", "list").stdout
    assert "p3@example.org" in table and "\x1b[" not in table


def test_empty_list_is_an_empty_array(cli):
    assert json_out(cli("patient", "list", "-o", "json")) == []
    assert cli("patient", "list", "-o", "csv").stdout.splitlines() == [
        "id,first_name,last_name,email,phone,date_of_birth,created_at,updated_at"
    ]


def test_limit_and_offset(cli):
    add_patients(cli, 5)
    page = json_out(cli("patient", "list", "--limit", "2", "--offset", "1", "-o", "json"))
    assert [p["id"] for p in page] == [2, 3]
    cli("patient", "list", "--limit", "0", expect=2)


def test_table_says_how_many_rows_were_left_out(cli, monkeypatch):
    add_patients(cli, 4)
    monkeypatch.setattr("encounter_cli.cli.output.DEFAULT_TABLE_ROWS", 3)
    result = cli("patient", "list")
    assert "p3@example.org" in result.stdout and "p4@example.org" not in result.stdout
    assert "1 more not shown" in result.stderr
    assert "more not shown" in cli("patient", "list", "--limit", "2", "--offset", "1").stderr
    assert "more not shown" not in cli("patient", "list", "--limit", "4").stderr


def test_output_format_from_environment(cli):
    add_patients(cli, 1)
    assert json_out(cli("patient", "list", env={"ENCOUNTER_OUTPUT": "json"}))[0]["id"] == 1
    cli("patient", "list", "-o", "xml", expect=2)


@pytest.mark.parametrize(
    "name", ["Ada [/b]", "[bold red]Lovelace", "[link=https://x.example]Smith", "Dr :thumbs_up: Who"]
)
def test_rich_markup_in_stored_text_prints_as_typed(cli, name):
    """Stored text is data: tables must neither crash on brackets nor turn them into styles or emoji."""
    cli("patient", "add", "--first-name", name, "--last-name", "X", "--email", "m@example.org")
    assert name in cli("patient", "show", "1").stdout
    assert name in cli("patient", "list").stdout


@pytest.mark.parametrize(("patients", "counted"), [(3, False), (4, True)])
def test_a_table_counts_the_rows_left_out_only_when_there_are_some(database, capsys, patients, counted):
    """A page fetches one row more than it shows: a full page with nothing after it costs no count query."""
    from sqlalchemy import event

    from encounter_cli import schemas, services
    from encounter_cli.cli import output
    from encounter_cli.cli.options import OutputFormat

    for n in range(patients):
        data = schemas.parse(schemas.PatientCreate, {"first_name": "A", "last_name": "B", "email": f"p{n}@x.org"})
        database.run(lambda session, data=data: services.add_patient(session, data))
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2].lower()))
    with database.session() as session:
        listing = services.list_patients(session, limit=output.page_size(OutputFormat.table, 3))
        output.show_listing(listing, output.PATIENT, OutputFormat.table, timezone.utc, 3)
    assert any("count(" in statement for statement in statements) is counted
    assert ("1 more not shown" in capsys.readouterr().err) is counted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada Lovelace", [1]),
        ("lovelace ada", [1]),
        ("élodie", [2]),
        ("5551234567", [1]),
        ("555-123", [1]),
        ("(555) 123", [1]),
        ("byron.org", [2]),
        ("ada byron", []),
    ],
)
def test_search_by_full_name_phone_or_email(cli, text, expected):
    cli(*ADA, "--phone", "+1 (555) 123-4567")
    cli(
        "patient",
        "add",
        "--first-name",
        "Élodie",
        "--last-name",
        "Byron",
        "--email",
        "e@byron.org",
        "--phone",
        "020 7946 0000",
    )
    assert [p["id"] for p in json_out(cli("patient", "list", "--search", text, "-o", "json"))] == expected
