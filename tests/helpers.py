"""Plain helpers shared by the tests (fixtures live in the conftest files).

The MariaDB test database: ENCOUNTER_TEST_MYSQL_URL names it; under pytest-xdist each
worker gets its own database beside it (`<name>_gw0`, `<name>_gw1`, ...), so workers never
clear each other's tables. Always take the URL from here (`MYSQL_URL`, `mysql_url_or_skip`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from encounter_cli.config import Settings
from encounter_cli.db import Database

CLINIC_ZONE = "America/New_York"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UTC = timezone.utc
# The services' clock in the service tests: 2030-06-10 12:00 UTC (08:00 in New York).
NOW = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)


# --- the MariaDB test database ---------------------------------------------------------------------------------------


def worker_mysql_url(base: str | None, worker: str | None) -> str | None:
    """The database this test process uses: the configured one, or `<name>_<worker>` under xdist."""
    if not base or not worker:
        return base
    from sqlalchemy.engine import make_url

    url = make_url(base)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


# xdist names each worker process in PYTEST_XDIST_WORKER before it imports any test module.
MYSQL_URL = worker_mysql_url(os.environ.get("ENCOUNTER_TEST_MYSQL_URL"), os.environ.get("PYTEST_XDIST_WORKER"))


@functools.cache
def ensure_mysql_database(url: str) -> None:
    """Create the URL's database (utf8mb4) if it is missing; once per process."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    assert name and "`" not in name, f"unusable test database name {name!r}"
    engine = create_engine(parsed.set(database=""))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        engine.dispose()


def drop_mysql_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    engine = create_engine(parsed.set(database=""))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
    finally:
        engine.dispose()


def mysql_url_or_skip() -> str:
    """This process's server database (created if missing); skip without one, fail under CI."""
    if MYSQL_URL:
        ensure_mysql_database(MYSQL_URL)
        return MYSQL_URL
    if IN_CI:
        pytest.fail("CI must run the MySQL tests: ENCOUNTER_TEST_MYSQL_URL is not set")
    pytest.skip("ENCOUNTER_TEST_MYSQL_URL is not set; no MySQL/MariaDB server to test against")


def clear_tables(database: Database) -> None:
    """Empty our server tables and restart their ids, so each test starts alike.

    TRUNCATE costs ~20 ms a table, so only tables that were written since are truncated: a table
    never inserted into since its last TRUNCATE is empty and has AUTO_INCREMENT 1.
    """
    names = [table.name for table in reversed(database.models.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        used = conn.exec_driver_sql(
            "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        ).all()
        next_id = {name: auto_increment for name, auto_increment in used}
        filled = conn.exec_driver_sql("SELECT " + ", ".join(f"EXISTS(SELECT 1 FROM `{name}`)" for name in names)).one()
        dirty = [name for name, rows in zip(names, filled, strict=True) if rows or next_id.get(name) != 1]
        if dirty:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            for name in dirty:
                conn.exec_driver_sql(f"TRUNCATE TABLE `{name}`")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")


# --- SQLite files -----------------------------------------------------------------------------------------------------


def build_sqlite_template(path: Path) -> Path:
    """A SQLite file with our tables, made once and copied for each test (see `copy_private`)."""
    database = Database(settings_for(f"sqlite:///{path}"))
    database.create_missing()
    database.dispose()  # the last connection to close checkpoints the WAL into the file and removes it
    leftovers = [p.name for p in path.parent.glob(f"{path.name}-*")]
    assert not leftovers, f"the template database was not closed cleanly: {leftovers}"
    return path


def copy_private(source: Path, target: Path) -> Path:
    """Copy a file to a new one readable by its owner only, as the CLI creates SQLite files."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reader, os.fdopen(descriptor, "wb") as writer:
        shutil.copyfileobj(reader, writer)
    return target


# --- settings, output ------------------------------------------------------------------------------------------------


def settings_for(url: str, prefix: str = "", timezone: str = CLINIC_ZONE) -> Settings:
    return Settings(database_url=url, password_file=None, table_prefix=prefix, timezone=timezone, config_path=None)


def json_out(result: Result) -> Any:
    return json.loads(result.stdout)


def error_json(result: Result) -> dict[str, Any]:
    """The machine-readable error: the last line of stderr."""
    error: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])["error"]
    return error


# --- service-level helpers -------------------------------------------------------------------------------------------


def at(minutes: int) -> datetime:
    """NOW shifted by whole minutes."""
    return NOW + timedelta(minutes=minutes)


def fetch(database: Database, kind: str, record_id: int) -> Any:
    """Re-read a record in a fresh transaction (nothing cached from the writer)."""
    model = getattr(database.models, kind)
    return database.run(lambda s: s.get(model, record_id), write=False)


def count(database: Database, kind: str) -> int:
    from sqlalchemy import func, select

    model = getattr(database.models, kind)
    return database.run(lambda s: s.scalar(select(func.count()).select_from(model)) or 0, write=False)


def run_concurrently(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `work(i)` in `workers` threads at once; return each result or the exception it raised."""
    barrier = threading.Barrier(workers)

    def one(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(workers)))


# --- a real `encounter serve` ----------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(db_url: str, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`encounter --db URL serve OPTIONS` in its own process group on a free port; yields its base URL.

    Its log goes to a file: a pipe nobody reads would fill up and stall the server mid-test.
    """
    import signal
    import subprocess
    import sys
    import tempfile
    import time
    import urllib.request

    port = free_port()
    command = [sys.executable, "-m", "encounter_cli", "--db", db_url, "serve", "--port", str(port), *options]
    environment = {**os.environ, "ENCOUNTER_TIMEZONE": CLINIC_ZONE, **(env or {})}
    with (
        tempfile.TemporaryFile("w+") as log,
        subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        ) as server,
    ):
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise AssertionError(f"encounter serve did not come up:\n{log.read()}") from None
                    time.sleep(0.2)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
