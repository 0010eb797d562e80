"""Database URLs that are odd, wrong or hostile: passwords in options, silent servers, empty paths, bad options."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from encounter_cli import db
from encounter_cli.db import Database
from encounter_cli.errors import DatabaseBusy
from tests.conftest import error_json, json_out, mysql_url_or_skip, settings_for

PASSWORD = "Sup3r-Secret-pw"
UNREACHABLE = "mysql+pymysql://clinic@127.0.0.1:1/clinic"  # nothing listens on port 1: refused at once
ADD_PATIENT = ("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
SHOWING_THE_URL = [("patient", "list"), ("db", "info"), ("db", "check")]


# --- passwords in URL options (never shown) ----------------------------------------------------


@pytest.mark.parametrize("option", ["password", "passwd", "ssl_key_password"])
@pytest.mark.parametrize("command", SHOWING_THE_URL)
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_password_given_as_a_mysql_url_option_is_never_shown(run_cli, option, command, debug):
    result = run_cli(*debug, "--db", f"{UNREACHABLE}?{option}={PASSWORD}", *command, "-o", "json", expect=6)
    assert PASSWORD not in result.output
    assert f"{option}=***" in error_json(result)["message"]


@pytest.mark.parametrize("option", ["password", "passwd"])
@pytest.mark.parametrize("command", SHOWING_THE_URL)
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_password_given_as_a_sqlite_url_option_is_refused_unshown(run_cli, tmp_path, option, command, debug):
    url = f"sqlite:///{tmp_path / 'clinic.db'}?{option}={PASSWORD}"
    result = run_cli(*debug, "--db", url, *command, "-o", "json", expect=6)
    assert PASSWORD not in result.output
    assert f'"{option}"' in error_json(result)["message"]


@pytest.fixture
def password_user() -> Iterator[str]:
    """URL (without password) of a server account that has one: root on the test server has none."""
    admin_url = make_url(mysql_url_or_skip())
    name = f"enc_{admin_url.database}"[:32]  # one account per test database, so parallel runs never share it
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE USER IF NOT EXISTS '{name}'@'%%' IDENTIFIED BY '{PASSWORD}'")
        conn.exec_driver_sql(f"ALTER USER '{name}'@'%%' IDENTIFIED BY '{PASSWORD}'")
        conn.exec_driver_sql(f"GRANT SELECT ON `{admin_url.database}`.* TO '{name}'@'%%'")
    yield admin_url.set(username=name, password=None).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP USER IF EXISTS '{name}'@'%%'")
    admin.dispose()


@pytest.mark.parametrize("form", ["userinfo", "password", "passwd"])
@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_working_password_is_hidden_by_db_info_and_db_check(run_cli, mysql_database, password_user, form, debug):
    if form == "userinfo":
        url, shown = password_user.replace("@", f":{PASSWORD}@", 1), ":***@"
    else:
        url, shown = f"{password_user}?{form}={PASSWORD}", f"?{form}=***"
    info = run_cli(*debug, "--db", url, "db", "info", "-o", "json")
    check = run_cli(*debug, "--db", url, "db", "check", "-o", "json")
    assert json_out(info)["tables"]["patients"] == 0  # it really connected, with the password
    for result in (info, check):
        assert PASSWORD not in result.output and shown in result.stdout


# --- a server that accepts the connection and never answers -------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where the kernel completes every TCP handshake but nobody ever says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.mark.parametrize("configured", ["in the URL", "by default"])
def test_a_server_that_never_answers_exits_6_instead_of_hanging(run_cli, silent_server, monkeypatch, configured):
    url = f"mysql+pymysql://clinic:{PASSWORD}@127.0.0.1:{silent_server}/clinic"
    if configured == "in the URL":
        url += "?read_timeout=1"
    else:
        monkeypatch.setattr(db, "MYSQL_IO_TIMEOUT_S", 1)
    result = run_cli("--debug", "--db", url, "patient", "list", "-o", "json", expect=6)
    assert "did not answer in time" in error_json(result)["message"]
    assert "read_timeout" in result.stderr and PASSWORD not in result.output


def test_the_mysql_timeouts_leave_room_for_a_lock_wait():
    """A booking may legitimately wait MYSQL_LOCK_WAIT_S for a doctor's row, silent all the while."""
    assert db.MYSQL_IO_TIMEOUT_S >= 3 * db.MYSQL_LOCK_WAIT_S


# --- empty SQLite paths, SQLite options -----------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_a_sqlite_url_without_a_file_is_refused(run_cli, url):
    result = run_cli("--db", url, *ADD_PATIENT, "-o", "json", expect=6)
    assert "path" in error_json(result)["message"]


def test_an_unset_variable_in_the_url_is_refused(run_cli):
    result = run_cli(*ADD_PATIENT, env={"ENCOUNTER_DATABASE_URL": "sqlite:///"}, expect=6)
    assert "the SQLite database path is empty" in result.stderr


@pytest.mark.parametrize("query", ["mode=ro", "uri=true&mode=ro", "timeout=5", "check_same_thread=false"])
def test_sqlite_url_options_are_refused(run_cli, tmp_path, query):
    path = tmp_path / "clinic.db"
    result = run_cli("--db", f"sqlite:///{path}?{query}", *ADD_PATIENT, "-o", "json", expect=6)
    assert f'"{query.split("=")[0]}"' in error_json(result)["message"]
    assert not path.exists()


def test_a_plain_file_path_is_a_sqlite_database_announced_when_new(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = run_cli("--db", "clinic.db", *ADD_PATIENT)
    assert first.stderr.startswith(f"created a new SQLite database: {tmp_path / 'clinic.db'}\n")
    again = run_cli("--db", str(tmp_path / "clinic.db"), "patient", "list", "-o", "json")
    assert [p["email"] for p in json_out(again)] == ["a@example.org"]  # the same file, by either path
    assert "created" not in again.stderr


@pytest.mark.parametrize("text", ["mysql:/clinic", "sqlite:clinic.db"])
def test_a_mistyped_url_is_refused_not_taken_for_a_file_name(run_cli, tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    result = run_cli("--db", text, "patient", "list", expect=6)
    assert "database URL is not valid" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- bad MySQL URL options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        "connect_timeout=abc",
        "connect_timeout=0",
        "port=abc",
        "port=3306",  # the port belongs in HOST:PORT; PyMySQL wants a number, the query gives text
        "read_timeout=-1",
        "write_timeout=1.5",
        "ssl_ca=/nonexistent/ca.pem",
        "ssl_check_hostname=maybe",
        "no_such_option=1",
        "read_default_file=/etc/passwd",  # settings and a password from a file password_file's checks never see
        "read_default_group=client",
    ],
)
@pytest.mark.parametrize("password_in", ["userinfo", "query"])
def test_a_bad_mysql_url_option_exits_6_naming_it(run_cli, option, password_in):
    if password_in == "userinfo":
        url = f"mysql+pymysql://clinic:{PASSWORD}@127.0.0.1:1/clinic?{option}"
    else:
        url = f"{UNREACHABLE}?password={PASSWORD}&{option}"
    result = run_cli("--debug", "--db", url, "patient", "list", "-o", "json", expect=6)
    assert f'database URL option "{option.split("=")[0]}"' in error_json(result)["message"]
    assert PASSWORD not in result.output


# --- a blocked SQLite writer --------------------------------------------------------------------


def test_a_blocked_sqlite_writer_exits_6_saying_to_retry(run_cli, tmp_path, monkeypatch):
    path = tmp_path / "busy.db"
    run_cli("--db", f"sqlite:///{path}", "db", "init")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(db, "SQLITE_TOTAL_WAIT_S", 0.5)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run_cli("--db", f"sqlite:///{path}", *ADD_PATIENT, expect=6)
    finally:
        holder.rollback()
        holder.close()
    assert "database is busy" in result.stderr and "retry the command" in result.stderr


def test_retries_share_one_total_wait(tmp_path, monkeypatch):
    """Each attempt may wait only what is left of SQLITE_TOTAL_WAIT_S (a clock that jumps 12 s per attempt)."""
    clock = [1000.0]
    granted = []
    real_lock_wait = db._lock_wait

    def lock_wait(deadline):
        granted.append(real_lock_wait(deadline))
        return granted[-1]

    def busy(session):
        clock[0] += 12  # as if this attempt had waited 12 s for the lock
        raise DatabaseBusy("database is busy (database is locked); nothing was written")

    monkeypatch.setattr(db.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(db, "_lock_wait", lock_wait)
    database = Database(settings_for(f"sqlite:///{tmp_path / 'clinic.db'}"))
    with pytest.raises(DatabaseBusy):
        database.run(busy)
    database.dispose()
    attempts = granted[0::2]  # each attempt: the wait its transaction gets, then the check before retrying
    assert attempts == [30, 18, 6] and granted[-1] == 0  # 5 attempts of 30 s each would have waited 150 s
