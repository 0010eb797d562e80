"""Engine, sessions and transactions; database failures become `Unavailable`.

`Database.run(work)` is how a command writes: it opens a transaction that
takes the write lock first (`BEGIN IMMEDIATE` on SQLite; on MySQL the
services lock the doctor row with `SELECT ... FOR UPDATE`), commits only if
`work` returns, and retries deadlocks and lock timeouts a few times.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, func, inspect, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from encounter_cli.config import Settings, read_password_file
from encounter_cli.errors import DatabaseBusy, Unavailable
from encounter_cli.models import Models, models_for

T = TypeVar("T")

WRITE_ATTEMPTS = 5
SQLITE_BUSY_TIMEOUT_S = 30
MYSQL_CONNECT_TIMEOUT_S = 5
MYSQL_LOCK_WAIT_S = 10  # a booking waits this long for a doctor's row before the retry loop steps in
MYSQL_TRANSIENT = {1205: "lock wait timeout", 1213: "deadlock"}
MYSQL_MISSING_TABLE = 1146
SQLITE_TRANSIENT = {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"}
INIT_HINT = "run: encounter db init"


class Database:
    """One configured database: engine, model set and session factories."""

    def __init__(self, settings: Settings) -> None:
        self.url = resolve_url(settings)
        self.models: Models = models_for(settings.table_prefix, self.url.get_backend_name())
        self.engine = _make_engine(self.url)
        self._read = sessionmaker(self.engine, expire_on_commit=False, info={"models": self.models})
        self._write = sessionmaker(
            self.engine.execution_options(encounter_write=True),
            expire_on_commit=False,
            info={"models": self.models},
        )
        self._tables_ready = not self.is_sqlite  # server databases are never altered implicitly

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, else rolled back."""
        self._ensure_sqlite_tables()
        session = (self._write if write else self._read)()
        try:
            with translate_errors(self.display_url), session.begin():
                yield session
        finally:
            session.close()

    def run(self, work: Callable[[Session], T], write: bool = True) -> T:
        """Run `work` in one transaction, retrying transient lock failures."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.session(write=write) as session:
                    return work(session)
            except DatabaseBusy:
                if attempt == WRITE_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)  # jitter spreads the retries apart
        raise AssertionError("unreachable")  # pragma: no cover

    def create_tables(self) -> list[str]:
        """Create whichever of our tables are missing; never drop or alter. Returns those created."""
        with translate_errors(self.display_url), self.engine.execution_options(encounter_write=True).begin() as conn:
            existing = set(inspect(conn).get_table_names())
            missing = [t for t in self.models.metadata.sorted_tables if t.name not in existing]
            self.models.metadata.create_all(conn, tables=missing)
        self._tables_ready = True
        return [t.name for t in missing]

    def table_counts(self) -> dict[str, int | None]:
        """Row count per table; None for a table that does not exist."""
        self._ensure_sqlite_tables()
        with translate_errors(self.display_url), self.engine.connect() as conn:
            existing = set(inspect(conn).get_table_names())
            return {
                t.name: conn.scalar(select(func.count()).select_from(t)) if t.name in existing else None
                for t in self.models.metadata.sorted_tables
            }

    def schema_differences(self) -> list[str]:
        """How the live schema differs from the models (see `schema_check`); empty when it matches."""
        from encounter_cli.schema_check import schema_differences

        with translate_errors(self.display_url), self.engine.connect() as conn:
            return schema_differences(conn, self.models)

    def _ensure_sqlite_tables(self) -> None:
        """SQLite needs no set-up: make our tables on first use."""
        if self._tables_ready:
            return
        names = [t.name for t in self.models.metadata.sorted_tables]
        # Look first without the write lock: create_tables takes it, and most commands only read.
        with translate_errors(self.display_url), self.engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
        if not present.issuperset(names):
            self.create_tables()
        self._tables_ready = True

    def dispose(self) -> None:
        self.engine.dispose()


def resolve_url(settings: Settings) -> URL:
    """Parse the URL, pick PyMySQL for MySQL, fill a missing password from password_file."""
    try:
        url = make_url(settings.database_url)
    except (ArgumentError, ValueError):  # the message would repeat the URL, password and all
        raise Unavailable(
            "database URL is not valid", hint="use sqlite:///PATH or mysql+pymysql://USER@HOST:PORT/DB"
        ) from None
    if url.host and "@" in url.host:  # an unencoded "@" in the password: part of it would show as the host
        raise Unavailable(
            "database URL is not valid: its host contains '@'",
            hint="percent-encode special characters in the password (@ is %40), or use password_file",
        )
    if url.drivername in ("mysql", "mariadb"):
        url = url.set(drivername=f"{url.drivername}+pymysql")
    if url.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise Unavailable(f'database "{url.get_backend_name()}" is not supported; use sqlite or mysql')
    if settings.password_file and url.password is None and url.get_backend_name() != "sqlite":
        url = url.set(password=read_password_file(settings.password_file))
    return url


def _make_engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        engine = create_engine(
            url,
            hide_parameters=True,
            isolation_level="READ COMMITTED",  # each statement sees rows committed before it, e.g. after a lock wait
            connect_args={
                "connect_timeout": MYSQL_CONNECT_TIMEOUT_S,
                "charset": "utf8mb4",
                "init_command": f"SET SESSION innodb_lock_wait_timeout = {int(MYSQL_LOCK_WAIT_S)}",
            },
        )
        _check_driver_options(engine)
        return engine
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise Unavailable(f"database URL is not usable: {type(exc).__name__}") from None


def _check_driver_options(engine: Engine) -> None:
    """URL query options PyMySQL does not know would fail at connect time with a bare TypeError."""
    import inspect as signature_inspect

    import pymysql

    _, options = engine.dialect.create_connect_args(engine.url)
    known = signature_inspect.signature(pymysql.connections.Connection.__init__).parameters
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise Unavailable(f'database URL option "{unknown[0]}" is not a PyMySQL connection option')


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        _create_private_file(Path(url.database))
    engine = create_engine(url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        # Write-ahead logging: a long read (an export piped to a slow reader) never blocks a writer's
        # commit. The mode is stored in the file, so only its first connection switches it.
        if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
        # SQLite's own lower() folds ASCII only; searches must find "Élodie" from "élodie" as MySQL does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("encounter_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _create_private_file(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (it holds patient data)."""
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # another process created it first; same outcome
    except OSError as exc:
        raise Unavailable(f"cannot create database file {path}: {exc.strerror}") from None


@contextmanager
def translate_errors(display_url: str) -> Iterator[None]:
    """Turn driver failures into `Unavailable` with a one-line cause and no password."""
    try:
        yield
    except IntegrityError:
        raise  # a constraint the services did not expect is a bug, not an outage
    except DBAPIError as exc:
        raise _classify(exc, display_url) from None


def _classify(exc: DBAPIError, display_url: str) -> Unavailable:
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    sqlite_error = getattr(exc.orig, "sqlite_errorname", "")  # Python 3.11+; the text below is 3.10's fallback
    if code in MYSQL_TRANSIENT or sqlite_error in SQLITE_TRANSIENT or "database is locked" in text:
        cause = MYSQL_TRANSIENT.get(code, "database is locked")
        return DatabaseBusy(f"database is busy ({cause}); nothing was written", hint="retry the command")
    if code == MYSQL_MISSING_TABLE or "no such table" in text:
        return Unavailable(f"the encounter tables are missing in {display_url}", hint=INIT_HINT)
    if isinstance(code, int) and isinstance(exc.orig.args[-1], str):
        text = exc.orig.args[-1]
    return Unavailable(f"cannot use database {display_url}: {text}")
