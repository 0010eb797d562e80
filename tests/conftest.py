"""One database fixture, parametrised over a SQLite file and the MySQL/MariaDB test server.

Set ENCOUNTER_TEST_MYSQL_URL (e.g. mysql+pymysql://root@127.0.0.1:3306/encounter_test)
to run every database test on the server too. Without it the server tests are deselected
(the header says so), except under CI (CI=true), where a missing server fails the run.
Under pytest-xdist each worker uses its own server database, `<name>_gw0` and so on.

Plain helpers live in tests/helpers.py; the names below stay importable from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from encounter_cli.cli.app import app
from encounter_cli.db import Database
from tests.helpers import (
    CLINIC_ZONE,
    IN_CI,
    MYSQL_URL,
    build_sqlite_template,
    clear_tables,
    copy_private,
    drop_mysql_database,
    error_json,
    json_out,
    mysql_url_or_skip,
    settings_for,
)

# Tests written before tests/helpers.py import these from here.
__all__ = [
    "CLINIC_ZONE",
    "IN_CI",
    "MYSQL_URL",
    "clear_tables",
    "error_json",
    "json_out",
    "mysql_url_or_skip",
    "settings_for",
]

MYSQL_URL_VARIABLE = "ENCOUNTER_TEST_MYSQL_URL"


# --- which database tests run ----------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not MYSQL_URL:
        raise pytest.UsageError(f"CI must run the MySQL/MariaDB tests: {MYSQL_URL_VARIABLE} is not set")


NO_SERVER = f"MariaDB tests deselected: {MYSQL_URL_VARIABLE} is not set (SQLite only)"


def pytest_report_header(config: pytest.Config) -> str | None:
    base = os.environ.get(MYSQL_URL_VARIABLE)
    if not base:
        return None  # said in the summary instead, which -q shows too
    from sqlalchemy.engine import make_url

    shown = make_url(base).render_as_string(hide_password=True)
    return f"database tests: SQLite and MariaDB at {shown} (under xdist each worker adds _gw0, _gw1, ... to the name)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not MYSQL_URL:
        terminalreporter.write_line(NO_SERVER, yellow=True)


def needs_server(item: pytest.Item) -> bool:
    """The test, or this parametrisation of it, runs against the MySQL/MariaDB server."""
    callspec = getattr(item, "callspec", None)
    on_server = callspec is not None and callspec.params.get("db_url") == "mysql"
    return on_server or "mysql_url" in getattr(item, "fixturenames", ()) or bool(item.get_closest_marker("mysql_only"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the SQLite runs of `mysql_only` tests, and every server test when there is no server."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        sqlite_run_of_mysql_only = (
            item.get_closest_marker("mysql_only") and callspec and callspec.params.get("db_url") == "sqlite"
        )
        (dropped if sqlite_run_of_mysql_only or (not MYSQL_URL and needs_server(item)) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --- databases -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """This process's server database; an xdist worker's own one is dropped when its tests end."""
    url = mysql_url_or_skip()
    yield url
    if url != os.environ.get(MYSQL_URL_VARIABLE):
        drop_mysql_database(url)


@pytest.fixture(scope="session")
def mysql_database(mysql_url: str) -> Iterator[Database]:
    """The server database with fresh tables, created once per test process."""
    database = Database(settings_for(mysql_url))
    with database.engine.begin() as conn:
        database.models.metadata.drop_all(conn)
    database.create_missing()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with empty tables, built once per test process."""
    return build_sqlite_template(tmp_path_factory.mktemp("sqlite-template") / "clinic.db")


@pytest.fixture(params=["sqlite", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty encounter database (tables exist), one per test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        return f"sqlite:///{copy_private(template, tmp_path / 'clinic.db')}"
    clear_tables(request.getfixturevalue("mysql_database"))
    url: str = request.getfixturevalue("mysql_url")
    return url


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


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(settings_for(db_url))
    yield database
    database.dispose()


# --- the command line ------------------------------------------------------------------------------------------------


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

    def invoke(
        *args: str, expect: int = 0, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
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

    def invoke(*args: str, **kwargs: Any) -> Result:
        return run_cli("--db", db_url, *args, **kwargs)

    return invoke
