"""The audit trail through the command line, on SQLite and MariaDB: every write command leaves exactly its entry,
a failed one leaves none, and `audit list` answers "who did what, and when" in every format.

The clinic zone is America/New_York (UTC-5 in early March 2031); 2031-03-03 is a Monday.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import typer

from encounter_cli.cli.app import app
from encounter_cli.db import Database
from encounter_cli.services import imports
from encounter_cli.services.common import stamp
from tests.helpers import error_json, json_out, settings_for

ACTOR = "alice"
START, MOVED = "2031-03-03T15:00:00+00:00", "2031-03-03T16:00:00+00:00"  # 10:00 and 11:00 clinic time
BOOKED = {
    "patient_id": [None, 1],
    "doctor_id": [None, 1],
    "start_time": [None, START],
    "end_time": [None, "2031-03-03T15:30:00+00:00"],
    "duration_minutes": [None, 30],
    "status": [None, "booked"],
    "reason": [None, "check-up"],
    "cancelled_at": [None, None],
    "cancellation_reason": [None, None],
}
TIME_OFF = {
    "doctor_id": 1,
    "start_time": "2031-03-04T05:00:00+00:00",
    "end_time": "2031-03-05T05:00:00+00:00",
    "reason": "course",
}


class Recent:
    """An ISO time of the last few minutes: the moment a command ran."""

    def __eq__(self, other: object) -> bool:
        moment = datetime.fromisoformat(str(other))
        return timedelta(0) <= datetime.now(timezone.utc) - moment < timedelta(minutes=5)

    def __repr__(self) -> str:
        return "<a recent time>"


# Every write command, in an order that works on one database: its arguments, and the one entry it must leave as
# (action, entity, entity id, changes). Entries of `import` are checked in their own test below.
STEPS: list[tuple[tuple[str, ...], tuple[str, str, int | None, dict[str, Any]]]] = [
    (
        ("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.org"),
        ("patient.add", "patient", 1, {
            "first_name": [None, "Ada"], "last_name": [None, "Lovelace"], "email": [None, "ada@example.org"],
            "phone": [None, None], "date_of_birth": [None, None],
        }),
    ),
    (("patient", "update", "1", "--phone", "5550100"), ("patient.update", "patient", 1, {"phone": [None, "5550100"]})),
    (
        ("doctor", "add", "--full-name", "Gregory House", "--specialization", "Diagnostics"),
        ("doctor.add", "doctor", 1, {
            "full_name": [None, "Gregory House"], "specialization": [None, "Diagnostics"], "is_active": [None, True],
        }),
    ),
    (("doctor", "deactivate", "1"), ("doctor.deactivate", "doctor", 1, {"is_active": [True, False]})),
    (("doctor", "activate", "1"), ("doctor.activate", "doctor", 1, {"is_active": [False, True]})),
    (
        ("doctor", "hours", "1", "--set", "mon-fri 09:00-17:00"),
        ("doctor.hours", "doctor", 1, {"hours": [None, ["mon-fri 09:00-17:00"]]}),
    ),
    (("doctor", "hours", "1", "--clear"), ("doctor.hours", "doctor", 1, {"hours": [["mon-fri 09:00-17:00"], None]})),
    (
        ("doctor", "time-off", "add", "1", "--from", "2031-03-04", "--to", "2031-03-05", "--reason", "course"),
        ("doctor.time_off.add", "time_off", 1, {name: [None, value] for name, value in TIME_OFF.items()}),
    ),
    (
        ("doctor", "time-off", "remove", "1"),
        ("doctor.time_off.remove", "time_off", 1, {name: [value, None] for name, value in TIME_OFF.items()}),
    ),
    (
        ("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-03-03T10:00", "--duration", "30",
         "--reason", "check-up"),
        ("appointment.book", "appointment", 1, BOOKED),
    ),
    (
        ("appointment", "reschedule", "1", "--start", "2031-03-03T11:00"),
        ("appointment.reschedule", "appointment", 1, {
            "start_time": [START, MOVED], "end_time": ["2031-03-03T15:30:00+00:00", "2031-03-03T16:30:00+00:00"],
        }),
    ),
    (
        ("appointment", "cancel", "1", "--reason", "feeling better"),
        ("appointment.cancel", "appointment", 1, {
            "status": ["booked", "cancelled"], "cancelled_at": [None, Recent()],
            "cancellation_reason": [None, "feeling better"],
        }),
    ),
    # Appointments 2 and 3 are booked in the past by `_book_in_the_past` (no command books the past).
    (("appointment", "complete", "2"), ("appointment.complete", "appointment", 2, {"status": ["booked", "completed"]})),
    (("appointment", "no-show", "3"), ("appointment.no_show", "appointment", 3, {"status": ["booked", "no_show"]})),
    (("api-token", "add", "desk"), ("api_token.add", "api_token", 1, {"name": [None, "desk"]})),
    (("api-token", "revoke", "desk"), ("api_token.revoke", "api_token", 1, {"name": ["desk", None]})),
]  # fmt: skip
IMPORTS = {"patient import", "doctor import", "appointment import"}  # test_each_import_batch_is_one_entry
READ_ONLY = {
    "patient list", "patient show", "doctor list", "doctor show", "doctor time-off list", "appointment list",
    "appointment show", "appointment slots", "schedule", "api-token list", "audit list", "db info", "db check",
    "config show", "serve",
}  # fmt: skip
NOT_RECORDS = {"db init", "config init"}  # they make tables or a file, not records


def _command_paths(group: Any, prefix: str = "") -> set[str]:
    paths = set()
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        paths |= _command_paths(command, f"{path} ") if hasattr(command, "commands") else {path}
    return paths


def test_the_steps_enumerate_every_write_command():
    """A new command must be listed here: as a write with its expected entry, or as a read."""
    commands = {" ".join(args[: 3 if args[1] == "time-off" else 2]) for args, _ in STEPS}
    assert _command_paths(typer.main.get_command(app)) == commands | IMPORTS | READ_ONLY | NOT_RECORDS


def entries(cli, *filters: str) -> list[dict[str, Any]]:
    listed = json_out(cli("audit", "list", *filters, "-o", "json"))
    return [{**entry, "changes": json.loads(entry["changes"])} for entry in listed]


def _book_in_the_past(db_url: str) -> None:
    """Appointments 2 and 3, yesterday, written behind the services' back: they leave no entry."""
    database = Database(settings_for(db_url))
    start = stamp() - timedelta(days=1)
    values = {"doctor_id": 1, "duration_minutes": 30, "status": "booked", "created_at": start, "updated_at": start}
    with database.session(write=True) as session:
        for _ in (2, 3):
            end = start + timedelta(minutes=30)
            session.add(database.models.Appointment(patient_id=1, start_time=start, end_time=end, **values))
    database.dispose()


def test_every_write_command_leaves_exactly_its_entry(cli, db_url):
    for seen, (args, (action, entity, entity_id, changes)) in enumerate(STEPS):
        if args[:2] == ("appointment", "complete"):
            _book_in_the_past(db_url)
        cli("--actor", ACTOR, *args)
        new = entries(cli, "--offset", str(seen))
        expected = {"action": action, "entity": entity, "entity_id": entity_id, "actor": ACTOR, "source": "cli"}
        assert [{key: entry[key] for key in expected} for entry in new] == [expected], args
        assert new[0]["changes"] == changes, args
        assert new[0]["occurred_at"] == Recent()


def test_a_failed_write_leaves_no_entry(cli):
    cli("patient", "add", "--first-name", "Ada", "--last-name", "L", "--email", "ada@example.org")
    cli("doctor", "add", "--full-name", "Gregory House", "--specialization", "Diagnostics")
    book = ("appointment", "book", "--patient", "1", "--doctor", "1", "--duration", "30", "--start")
    cli(*book, "2031-03-03T10:00")
    before = entries(cli)
    cli(*book, "2031-03-03T10:15", expect=5)  # overlaps appointment 1: the booking and its entry roll back together
    cli("patient", "add", "--first-name", "B", "--last-name", "L", "--email", "ADA@example.org", expect=5)
    cli("appointment", "cancel", "7", expect=4)
    cli("doctor", "activate", "1")  # active already: nothing changes, nothing is recorded
    assert entries(cli) == before
    assert json_out(cli("appointment", "list", "-o", "json", "--from", "2031-03-01"))[0]["id"] == 1


def test_the_actor_is_the_option_else_the_environment_else_the_login(cli):
    add = ("doctor", "add", "--specialization", "General", "--full-name")
    cli("--actor", "  bob  ", *add, "A", env={"ENCOUNTER_ACTOR": "carol"})
    cli(*add, "B", env={"ENCOUNTER_ACTOR": "carol"})
    cli(*add, "C", env={"ENCOUNTER_ACTOR": None})
    assert [entry["actor"] for entry in entries(cli)] == ["bob", "carol", getpass.getuser()]


@pytest.mark.parametrize(("option", "env"), [(("--actor", " "), {}), ((), {"ENCOUNTER_ACTOR": "x" * 101})])
def test_an_empty_or_overlong_actor_is_invalid_and_writes_nothing(cli, option, env):
    result = cli(*option, "doctor", "add", "--full-name", "A", "--specialization", "B", "-o", "json", expect=3, env=env)
    error = error_json(result)
    assert error["details"]["field"] == (option[0] if option else "ENCOUNTER_ACTOR")
    assert json_out(cli("doctor", "list", "-o", "json")) == []
    assert entries(cli) == []


def _write(tmp_path, name: str, rows: list[dict[str, Any]]) -> str:
    path = tmp_path / name
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_each_import_batch_is_one_entry(cli, tmp_path, monkeypatch):
    people = [{"first_name": f"P{n}", "last_name": "T", "email": f"p{n}@example.org"} for n in range(1, 4)]
    cli("--actor", ACTOR, "patient", "import", _write(tmp_path, "p.csv", people))
    doctors = [
        {"id": 10, "full_name": "Dr A", "specialization": "General"},
        {"full_name": "Dr B", "specialization": "X"},
    ]
    cli("doctor", "import", _write(tmp_path, "d.csv", doctors))
    booking = {"patient_id": 1, "doctor_id": 10, "start_time": "2031-03-03T10:00", "duration_minutes": 30}
    cli("appointment", "import", _write(tmp_path, "a.csv", [booking, {**booking, "patient_id": 2, "doctor_id": 11}]))
    cli("patient", "import", _write(tmp_path, "dry.csv", [{**people[0], "email": "new@example.org"}]), "--dry-run")
    cli("patient", "import", _write(tmp_path, "bad.csv", [{**people[0], "email": "new@example.org"}, people[1]]),
        expect=5)  # fmt: skip  # all-or-nothing: one row is a duplicate, so nothing is written, nothing recorded
    imported = entries(cli, "--action", "patient.import")
    imported += entries(cli, "--action", "doctor.import") + entries(cli, "--action", "appointment.import")
    shape = [(e["action"], e["entity"], e["entity_id"], e["source"], e["changes"]) for e in imported]
    assert shape == [
        ("patient.import", "patient", None, "import", {"created": 3, "ids": [[1, 3]]}),
        ("doctor.import", "doctor", None, "import", {"created": 2, "ids": [[10, 11]]}),
        ("appointment.import", "appointment", None, "import", {"created": 2, "ids": [[1, 2]]}),
    ]
    assert imported[0]["actor"] == ACTOR
    assert len(entries(cli)) == 3

    # --skip-invalid: one entry per committed batch, with that batch's ids; the bad row is in neither.
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    more = [{**people[0], "email": f"m{n}@example.org"} for n in range(1, 6)]
    more[1]["email"] = "p1@example.org"  # taken
    cli("patient", "import", _write(tmp_path, "more.csv", more), "--skip-invalid", expect=5)
    batches = [entry["changes"] for entry in entries(cli, "--action", "patient.import", "--offset", "1")]
    ids = {patient["email"]: patient["id"] for patient in json_out(cli("patient", "list", "-o", "json"))}
    m1, m3, m4, m5 = (ids[f"m{n}@example.org"] for n in (1, 3, 4, 5))  # a rolled-back MySQL insert uses up ids
    assert batches == [
        {"created": 1, "ids": [[m1, m1]]},
        {"created": 2, "ids": [[m3, m4]]},
        {"created": 1, "ids": [[m5, m5]]},
    ]

    # Ids given by the file, below and above the highest stored one, with gaps between them.
    gaps = [{"id": n, "full_name": f"Dr {n}", "specialization": "G"} for n in (5, 40, 30)]
    cli("doctor", "import", _write(tmp_path, "gaps.csv", gaps))
    [entry] = entries(cli, "--action", "doctor.import", "--offset", "1")
    assert entry["changes"] == {"created": 3, "ids": [[5, 5], [30, 30], [40, 40]]}


@pytest.fixture
def history(cli):
    """Two patients by alice, one update by bob, a booking by alice cancelled by carol."""
    for n in (1, 2):
        cli("--actor", "alice", "patient", "add", "--first-name", f"P{n}", "--last-name", "T", "--email", f"p{n}@x.org")
    cli("--actor", "bob", "patient", "update", "2", "--last-name", "Turing")
    cli("--actor", "alice", "doctor", "add", "--full-name", "Dr A", "--specialization", "General")
    cli("--actor", "alice", "appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-03-03T10:00",
        "--duration", "30")  # fmt: skip
    cli("--actor", "carol", "appointment", "cancel", "1")
    return cli


def test_who_cancelled_appointment_n_and_when(history):
    [entry] = entries(history, "--entity", "appointment", "--id", "1", "--action", "appointment.cancel")
    assert (entry["actor"], entry["occurred_at"]) == ("carol", Recent())
    table = history("audit", "list", "--entity", "appointment", "--id", "1", "--action", "appointment.cancel").stdout
    assert "carol" in table and "appointment.cancel" in table and "alice" not in table


def test_audit_list_filters(history):
    def actions(*filters: str) -> list[str]:
        return [entry["action"] for entry in entries(history, *filters)]

    assert actions() == ["patient.add"] * 2 + ["patient.update", "doctor.add", "appointment.book", "appointment.cancel"]
    assert actions("--entity", "patient", "--id", "2") == ["patient.add", "patient.update"]
    assert actions("--actor", "bob") == ["patient.update"]
    assert actions("--actor", "alice", "--action", "patient.add", "--limit", "1", "--offset", "1") == ["patient.add"]
    assert actions("--from", "today", "--to", "+1d") == actions()
    assert actions("--from", "+1d") == actions("--to", "-1d") == []
    assert actions("--entity", "nurse") == []
    message = history("audit", "list", "--from", "+1d", "--to", "today", expect=3).stderr
    assert message.startswith("error: --from: ") and "is later than --to" in message


def test_audit_list_in_every_format(history):
    listed = json_out(history("audit", "list", "-o", "json"))
    fields = ["id", "occurred_at", "actor", "source", "action", "entity", "entity_id", "changes"]
    assert [list(entry) for entry in listed] == [fields] * 6
    ndjson = history("audit", "list", "-o", "ndjson").stdout.splitlines()
    assert [json.loads(line) for line in ndjson] == listed
    rows = list(csv.DictReader(io.StringIO(history("audit", "list", "-o", "csv").stdout)))
    assert [json.loads(row["changes"]) for row in rows] == [json.loads(entry["changes"]) for entry in listed]
    assert rows[2]["actor"] == "bob" and rows[2]["entity_id"] == "2"


def test_the_table_fits_80_columns(history):
    env = {"TTY_COMPATIBLE": "1", "COLUMNS": "80", "NO_COLOR": "1", "TERM": "xterm-256color"}
    lines = history("audit", "list", env=env).stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[-1].split()[2:5] == ["carol", "cli", "appointment.cancel"]  # after the date and time


def test_nothing_edits_or_deletes_entries():
    commands = typer.main.get_command(app).commands["audit"].commands  # type: ignore[attr-defined]
    assert set(commands) == {"list"}
