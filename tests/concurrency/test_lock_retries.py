"""Lock waits: a held write lock makes a booking retry, then succeed or exit 6 with 'retry'."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pymysql
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from encounter_cli import db
from encounter_cli.errors import DatabaseBusy, Unavailable
from tests.helpers import error_json, json_out

pytestmark = pytest.mark.slow  # waits out real lock timeouts

BOOK = ("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-02-03T10:00", "--duration", "30")


@contextmanager
def write_lock_held(url: str) -> Iterator[Callable[[], None]]:
    """Another client holds what a booking needs (SQLite: the write lock; MySQL: doctor 1's row).

    Yields `release`, which may be called early, from any thread.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn = pymysql.connect(host=parsed.host, port=parsed.port or 3306, user=parsed.username,
                               password=parsed.password or "", database=parsed.database)  # fmt: skip
        conn.begin()
        conn.cursor().execute("SELECT id FROM doctors WHERE id = 1 FOR UPDATE")
    released = threading.Lock()

    def release() -> None:
        if released.acquire(blocking=False):
            conn.rollback()
            conn.close()

    try:
        yield release
    finally:
        release()


@pytest.fixture
def seeded(cli, monkeypatch):
    cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    cli("doctor", "add", "--full-name", "Dr", "--specialization", "General")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setattr(db, "MYSQL_LOCK_WAIT_S", 1)
    return cli


def test_a_lock_held_too_long_exits_6_saying_to_retry(seeded, db_url, monkeypatch):
    monkeypatch.setattr(db, "WRITE_ATTEMPTS", 2)
    with write_lock_held(db_url):
        result = seeded(*BOOK, "-o", "json", expect=6)
    assert "database is busy" in result.stderr and "hint: retry the command" in result.stderr
    assert error_json(result)["type"] == "unavailable"
    assert json_out(seeded("appointment", "list", "-o", "json")) == []
    seeded(*BOOK)  # the lock is gone: the same command now works


def test_a_lock_released_meanwhile_is_waited_out_by_retrying(seeded, db_url):
    # Held longer than one attempt waits (0.1 s SQLite, 1 s MySQL) but shorter than all five together,
    # so the booking can only succeed through the retry loop.
    hold_seconds = 0.5 if db_url.startswith("sqlite") else 2.0
    with write_lock_held(db_url) as release:
        timer = threading.Timer(hold_seconds, release)
        timer.start()
        booked = json_out(seeded(*BOOK, "-o", "json"))
        timer.join()
    assert booked["status"] == "booked"


@pytest.mark.parametrize(
    ("code", "message", "busy"),
    [
        (1213, "Deadlock found when trying to get lock", True),
        (1205, "Lock wait timeout exceeded", True),
        (None, "database is locked", True),
        (2003, "Can't connect to MySQL server", False),
    ],
)
def test_transient_errors_are_classified_for_retry(code, message, busy):
    orig = Exception(code, message) if code else Exception(message)
    error = db._classify(OperationalError("SELECT 1", {}, orig), "mysql+pymysql://u:***@h/d")
    assert isinstance(error, Unavailable)
    assert isinstance(error, DatabaseBusy) is busy
    assert "u:***@h" in str(error) or busy


def test_an_open_reader_does_not_block_a_writer_on_sqlite(run_cli, tmp_path, monkeypatch):
    """An export paused in a pipe holds a read transaction; with WAL a booking still commits at once."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    run_cli("--db", url, "patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    reader = sqlite3.connect(tmp_path / "wal.db", isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM patients").fetchone() == (1,)  # the read snapshot is now held
    try:
        run_cli("--db", url, "patient", "add", "--first-name", "C", "--last-name", "D", "--email", "c@example.org")
    finally:
        reader.rollback()
        reader.close()
    assert [p["id"] for p in json_out(run_cli("--db", url, "patient", "list", "-o", "json"))] == [1, 2]
