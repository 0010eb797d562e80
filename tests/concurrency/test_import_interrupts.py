"""Ctrl-C and a lost connection during a real import process: all or nothing, or whole batches."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from encounter_cli.services.imports import BATCH_ROWS
from tests.helpers import clear_tables

pytestmark = pytest.mark.slow  # real `python -m encounter_cli` processes

ROWS = 300_000  # several seconds of work, so the signal lands mid-import


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("import") / "patients.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["first_name", "last_name", "email"])
        writer.writerows([f"P{n}", "Signal", f"p{n}@example.org"] for n in range(ROWS))
    return path


def start_import(url: str, path: Path, tmp_path: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "ENCOUNTER_TIMEZONE": "UTC"}
    command = [sys.executable, "-m", "encounter_cli", "--db", url, "patient", "import", str(path), *extra]
    # A run started in the background by a non-interactive shell (as CI may be) inherits an ignored
    # SIGINT, and Python then never raises KeyboardInterrupt: give the import the default handling.
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the import ended before the test could interrupt it: {process.stderr.read()}"
        assert time.monotonic() < deadline, "the import never got going"
        time.sleep(0.25)  # InnoDB refreshes INNODB_TRX only when 0.1 s passed since it was last read


def patient_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM patients")).scalar()
    engine.dispose()
    return count


def uncommitted_rows_written(url: str) -> bool:
    """The import's open transaction has inserted rows (SQLite: it holds the write lock)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(parsed.database, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    _, modified = import_transaction(url)
    return bool(modified)


def import_transaction(url: str) -> tuple[int | None, int]:
    """Thread id and rows written of the open server transaction in this test's database.

    INNODB_TRX lists the whole server's transactions: other xdist workers and other clients
    of the same server must not be mistaken for the import (nor killed).
    """
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT t.trx_mysql_thread_id, t.trx_rows_modified FROM information_schema.INNODB_TRX t"
                " JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
                " WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID()"
            )
        ).first()
    engine.dispose()
    return (int(row[0]), int(row[1])) if row else (None, 0)


def test_ctrl_c_during_an_all_or_nothing_import_writes_nothing(cli, db_url, big_csv, tmp_path):
    cli("db", "init")
    process = start_import(db_url, big_csv, tmp_path)
    wait_until(lambda: uncommitted_rows_written(db_url), process)
    time.sleep(0.3)  # a few more batches into the transaction
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "stopped early: nothing was written" in stderr and "Traceback" not in stderr
    assert patient_count(db_url) == 0


def test_ctrl_c_during_skip_invalid_keeps_whole_batches_and_says_how_far(cli, db_url, big_csv, tmp_path):
    cli("db", "init")
    process = start_import(db_url, big_csv, tmp_path, "--skip-invalid", "-o", "json")
    wait_until(lambda: patient_count(db_url) >= BATCH_ROWS, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    stored = patient_count(db_url)
    assert json.loads(stdout)["written"] == stored  # a script learns how far it got
    assert stored % BATCH_ROWS == 0 and 0 < stored < ROWS
    # The header is line 1, so the last committed row is on line stored + 1.
    assert f"batches through line {stored + 1} are committed" in stderr


def test_a_lost_server_connection_writes_nothing_and_exits_6(big_csv, tmp_path, mysql_database, mysql_url):
    url = mysql_url
    clear_tables(mysql_database)
    process = start_import(url, big_csv, tmp_path)
    wait_until(lambda: uncommitted_rows_written(url), process)
    thread, _ = import_transaction(url)
    assert thread, "the import's transaction ended before it could be cut off"
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text(f"KILL {thread}"))
    engine.dispose()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 6, stderr
    assert "error: cannot use database" in stderr and "Traceback" not in stderr
    assert patient_count(url) == 0
