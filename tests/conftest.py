"""One database fixture, parametrised over a SQLite file and the MySQL/MariaDB test server.

Set ENCOUNTER_TEST_MYSQL_URL (e.g. mysql+pymysql://root@127.0.0.1:3306/encounter_test)
to run every database test on the server too. Without it those tests skip,
except under CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from encounter_cli.cli.app import app
from encounter_cli.config import Settings
from encounter_cli.db import Database

MYSQL_URL = os.environ.get("ENCOUNTER_TEST_MYSQL_URL")
CLINIC_ZONE = "America/New_York"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def mysql_url_or_skip() -> str:
    if MYSQL_URL:
        return MYSQL_URL
    if IN_CI:
        pytest.fail("CI must run the MySQL tests: ENCOUNTER_TEST_MYSQL_URL is not set")
    pytest.skip("ENCOUNTER_TEST_MYSQL_URL is not set; no MySQL/MariaDB server to test against")


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[Database]:
    """The server database with fresh tables, created once per test run."""
    database = Database(settings_for(mysql_url_or_skip()))
    with database.engine.begin() as conn:
        database.models.metadata.drop_all(conn)
    database.create_missing()
    yield database
    database.dispose()


def clear_tables(database: Database) -> None:
    """Empty our tables and restart their ids, so each test starts alike."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in reversed(database.models.metadata.sorted_tables):
            conn.exec_driver_sql(f"TRUNCATE TABLE `{table.name}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")


@pytest.fixture(params=["sqlite", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty encounter database (tables exist), one per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    database = request.getfixturevalue("mysql_database")
    clear_tables(database)
    return MYSQL_URL


@pytest.fixture
def prefixed(db_url: str, tmp_path: Path) -> Iterator[tuple[str, ...]]:
    """Global options for a second, empty table set (prefix `scratch`) that a test may break.

    Its tables are dropped afterwards, so altering them never leaks into other tests.
    """
    config = tmp_path / "scratch.toml"
    config.write_text('[database]\ntable_prefix = "scratch"\n')
    yield ("--db", db_url, "--config", str(config))
    database = Database(settings_for(db_url, prefix="scratch"))
    with database.engine.begin() as conn:
        database.models.metadata.drop_all(conn)
    database.dispose()


def settings_for(url: str, prefix: str = "", timezone: str = CLINIC_ZONE) -> Settings:
    return Settings(database_url=url, password_file=None, table_prefix=prefix, timezone=timezone, config_path=None)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(settings_for(db_url))
    yield database
    database.dispose()


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """No user config, a private XDG tree, a fixed clinic zone."""
    monkeypatch.chdir(tmp_path)
    return {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "ENCOUNTER_TIMEZONE": CLINIC_ZONE,
        "ENCOUNTER_DATABASE_URL": None,
        "ENCOUNTER_CONFIG": None,
        "ENCOUNTER_OUTPUT": None,
        "COLUMNS": "200",
    }


Invoke = Callable[..., Result]


@pytest.fixture
def run_cli(isolated_env: dict[str, str | None]) -> Invoke:
    """`run_cli(*args, expect=0, input=None, env=None)`: run encounter, check the exit code."""

    def invoke(*args: str, expect: int = 0, input: str | None = None, env: dict | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), input=input, env={**isolated_env, **(env or {})})
        assert result.exit_code == expect, (
            f"exit {result.exit_code} != {expect} for {args}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nexception: {result.exception!r}"
        )
        return result

    return invoke


@pytest.fixture
def cli(run_cli: Invoke, db_url: str) -> Invoke:
    """Like `run_cli`, against this test's database."""

    def invoke(*args: str, **kwargs) -> Result:
        return run_cli("--db", db_url, *args, **kwargs)

    return invoke


def json_out(result: Result):
    return json.loads(result.stdout)


def error_json(result: Result) -> dict:
    """The machine-readable error: the last line of stderr."""
    return json.loads(result.stderr.strip().splitlines()[-1])["error"]
