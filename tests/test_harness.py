"""The test harness itself: fresh private SQLite copies, per-worker server databases, deselection."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from encounter_cli import schemas, services
from encounter_cli.db import Database
from tests.helpers import clear_tables, settings_for, worker_mysql_url

TABLES = {"patients", "doctors", "appointments"}
ROOT = Path(__file__).resolve().parent.parent


def add_patient(database: Database, email: str) -> int:
    data = schemas.parse(schemas.PatientCreate, {"first_name": "A", "last_name": "B", "email": email})
    patient_id: int = database.run(lambda s: services.add_patient(s, data).id)
    return patient_id


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        count: int = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return count


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_each_sqlite_test_gets_a_private_fresh_copy_of_the_schema(db_url, tmp_path, sqlite_template):
    path = Path(make_url(db_url).database or "")
    assert path.parent == tmp_path and path != sqlite_template
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # as the CLI creates a database file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names >= TABLES
    assert all(rows(path, table) == 0 for table in TABLES)
    database = Database(settings_for(db_url))
    try:
        assert database.schema_differences() == []
        assert add_patient(database, "a@example.org") == 1
    finally:
        database.dispose()
    assert rows(path, "patients") == 1 and rows(sqlite_template, "patients") == 0  # the template stays empty


@pytest.mark.mysql_only
def test_server_tables_are_emptied_and_ids_restart_between_tests(db_url, database, mysql_database):
    assert db_url.startswith("mysql")  # mysql_only: the SQLite run is deselected
    assert add_patient(database, "a@example.org") == 1
    clear_tables(mysql_database)
    assert database.run(lambda s: services.list_patients(s).total(), write=False) == 0
    assert add_patient(database, "b@example.org") == 1


@pytest.mark.mysql_only
def test_each_xdist_worker_has_its_own_utf8mb4_server_database(mysql_url, mysql_database):
    base = make_url(os.environ["ENCOUNTER_TEST_MYSQL_URL"]).database
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = make_url(mysql_url).database
    assert name == (f"{base}_{worker}" if worker else base)
    with mysql_database.engine.connect() as conn:
        assert conn.scalar(text("SELECT DATABASE()")) == name
        charset = conn.scalar(
            text("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
            {"n": name},
        )
    assert charset == "utf8mb4"


def test_worker_database_urls_keep_credentials_and_options():
    base = "mysql+pymysql://clinic:p%40ss@db.example:3307/encounter_test?charset=utf8mb4"
    assert (
        worker_mysql_url(base, "gw3")
        == "mysql+pymysql://clinic:p%40ss@db.example:3307/encounter_test_gw3?charset=utf8mb4"
    )
    assert worker_mysql_url(base, None) == base
    assert worker_mysql_url(None, "gw0") is None


def collect(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ENCOUNTER_TEST_MYSQL_URL", "CI", "PYTEST_XDIST_WORKER")}
    if ci:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", "--no-cov"]
    command += ["tests/services/test_db.py", "tests/cli/test_database_and_config.py"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_without_a_server_its_tests_are_deselected_and_the_header_says_so():
    result = collect(ci=None)
    assert result.returncode == 0, result.stdout + result.stderr
    last_lines = result.stdout.splitlines()[-2:]
    assert last_lines[0] == "MariaDB tests deselected: ENCOUNTER_TEST_MYSQL_URL is not set (SQLite only)"
    assert "deselected" in last_lines[1]
    assert "[sqlite" in result.stdout and "[mysql]" not in result.stdout and "[mysql-" not in result.stdout
    assert "test_wrong_credentials_exit_6_without_the_password" not in result.stdout  # mysql_only
    assert "skipped" not in result.stdout


@pytest.mark.slow
def test_under_ci_a_missing_server_fails_the_run():
    result = collect(ci="true")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "CI must run the MySQL/MariaDB tests: ENCOUNTER_TEST_MYSQL_URL is not set" in result.stderr
