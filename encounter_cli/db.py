"""Engine, sessions and transactions; database failures become `Unavailable`.

`Database.run(work)` is how a command writes: it opens a transaction that
takes the write lock first (`BEGIN IMMEDIATE` on SQLite; on MySQL the
services lock the doctor row with `SELECT ... FOR UPDATE`), commits only if
`work` returns, and retries deadlocks and lock timeouts a few times (on
SQLite within SQLITE_TOTAL_WAIT_S in all). URLs are checked before anything
connects (SQLite: a file path, no options; MySQL: options PyMySQL accepts)
and shown only through `redacted`, which hides passwords.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, func, inspect, literal, select
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from encounter_cli.config import Settings, read_password_file
from encounter_cli.errors import DatabaseBusy, Unavailable
from encounter_cli.models import Models, models_for

T = TypeVar("T")
URL_SCHEME = re.compile(r"[A-Za-z][\w+.-]*:")  # "mysql:..." is a mistyped URL, not a file to create

WRITE_ATTEMPTS = 5
SQLITE_BUSY_TIMEOUT_S = 30  # longest one transaction waits for SQLite's write lock
SQLITE_TOTAL_WAIT_S = 30  # longest all attempts of one `run` wait together
SQLITE_CACHED_STATEMENTS = 8
SQLITE_CONTAINS_FOLDED = "encounter_contains_folded"  # (needle, text, ...): see `contains_ignoring_case`
MYSQL_CONNECT_TIMEOUT_S = 5
MYSQL_LOCK_WAIT_S = 10  # a booking waits this long for a doctor's row before the retry loop steps in
# Longest the server may stay silent, the greeting at connect time included. A statement is silent until its
# first row: a lock wait (MYSQL_LOCK_WAIT_S), a sort before an export streams. Far above both, far below forever.
MYSQL_IO_TIMEOUT_S = 60
MYSQL_TRANSIENT = {1205: "lock wait timeout", 1213: "deadlock"}
MYSQL_CONNECTION_LOST = {2006, 2013}  # "gone away", "lost connection": caused by a socket timeout, one above expired
MYSQL_MISSING_TABLE = 1146
FROM_OTHER_FILES = {"read_default_file", "read_default_group"}  # option files of the mysql client
PASSWORD_OPTIONS = {"password", "passwd"}  # PyMySQL takes the password from the URL's query too
SECRET_OPTION_MARKERS = ("pass", "pwd", "secret")  # shown as ***: those two, ssl_key_password ...
SQLITE_TRANSIENT = {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"}
INIT_HINT = "run: encounter db init"
OPTIONS_HINT = "URL options are PyMySQL connection arguments, e.g. ?read_timeout=120; the port belongs in HOST:PORT"


class Database:
    """One configured database: engine, model set and session factories."""

    def __init__(self, settings: Settings, connections: int | None = None) -> None:
        """`connections`: how many to keep open for threads that share this database (the API's); default
        SQLAlchemy's pool, which suits a command's one thread."""
        self.url = resolve_url(settings)
        self.models: Models = models_for(settings.table_prefix, self.url.get_backend_name())
        self.display_url = redacted(self.url)
        # A new file's owner is told: a mistyped path would otherwise start an empty clinic unnoticed.
        self.created_file = self.is_sqlite and _create_private_file(Path(str(self.url.database)))
        self.engine = _make_engine(self.url, {"pool_size": connections, "max_overflow": 0} if connections else {})
        # A server's threads queue here for SQLite's one write lock: SQLite's own wait polls with growing
        # sleeps, which under load hands the lock out unfairly (seconds-long tails). Commands have one thread.
        self._sqlite_writer = threading.Lock()
        self._sessions = sessionmaker(expire_on_commit=False, info={"models": self.models})
        self._tables_ready = not self.is_sqlite  # server databases are never altered implicitly
        # Who this process's changes are from (services.audit.Actor), set once by the front end; each session
        # carries it in `info["actor"]`, where the audit trail reads it. An API request sets its own there.
        self.actor: object | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self, write: bool = False, deadline: float | None = None) -> Iterator[Session]:
        """One transaction: committed if the block ends normally, else rolled back.

        On SQLite it waits for a lock until `deadline` (a `time.monotonic()` value), at most SQLITE_BUSY_TIMEOUT_S.
        Ctrl-C is held during the commit and the session's `after_commit` listeners, so a caller that counts
        what it committed there never loses the count to an interrupt.
        """
        self._ensure_sqlite_tables()
        bind = self.engine.execution_options(encounter_write=write, encounter_wait_s=_lock_wait(deadline))
        session = self._sessions(bind=bind, info={"actor": self.actor})
        try:
            with translate_errors(self.display_url):
                session.begin()
                yield session
                with interrupts_held():
                    session.commit()
        finally:
            session.close()  # rolls back whatever was not committed

    def run(self, work: Callable[[Session], T], write: bool = True) -> T:
        """Run `work` in one transaction, retrying transient lock failures (on SQLite within SQLITE_TOTAL_WAIT_S)."""
        deadline = time.monotonic() + SQLITE_TOTAL_WAIT_S if self.is_sqlite else None
        queue = self._sqlite_writer if self.is_sqlite and write else contextlib.nullcontext()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with queue, self.session(write=write, deadline=deadline) as session:
                    return work(session)
            except DatabaseBusy:
                if attempt == WRITE_ATTEMPTS or _lock_wait(deadline) == 0:
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)  # jitter spreads the retries apart
        raise AssertionError("unreachable")  # pragma: no cover

    def create_missing(self) -> list[str]:
        """Create whichever of our tables and indexes are missing; never drop or alter. Returns what was created."""
        from encounter_cli.schema_check import missing_indexes

        with translate_errors(self.display_url), self.engine.execution_options(encounter_write=True).begin() as conn:
            inspector = inspect(conn)
            existing = set(inspector.get_table_names())
            tables = self.models.metadata.sorted_tables
            new_tables = [table for table in tables if table.name not in existing]
            self.models.metadata.create_all(conn, tables=new_tables)
            created = [f"table {table.name}" for table in new_tables]
            for table in tables:
                for index in missing_indexes(inspector, table) if table.name in existing else []:
                    index.create(conn)  # an existing database gains the indexes a newer version added
                    created.append(f"index {index.name}")
        self._tables_ready = True
        return created

    def table_counts(self) -> dict[str, int | None]:
        """Row count per table; None for a table that does not exist."""
        self._ensure_sqlite_tables()
        with translate_errors(self.display_url), self.engine.connect() as conn:
            existing = set(inspect(conn).get_table_names())
            return {
                t.name: conn.scalar(select(func.count()).select_from(t)) if t.name in existing else None
                for t in self.models.metadata.sorted_tables
            }

    def ping(self) -> None:
        """Raise `Unavailable` unless the database answers and holds our tables: one empty read per table."""

        def read_each_table(session: Session) -> None:
            for table in self.models.metadata.sorted_tables:
                session.execute(select(literal(1)).select_from(table).limit(0))

        self.run(read_each_table, write=False)

    def missing_tables(self) -> list[str]:
        """Our tables that do not exist (on SQLite they are made on first use, so none)."""
        self._ensure_sqlite_tables()
        existing = self._table_names()
        return [table.name for table in self.models.metadata.sorted_tables if table.name not in existing]

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
        # Look first without the write lock: create_missing takes it, and most commands only read.
        if not self._table_names().issuperset(names):
            self.create_missing()
        self._tables_ready = True

    def _table_names(self) -> set[str]:
        with translate_errors(self.display_url), self.engine.connect() as conn:
            return set(inspect(conn).get_table_names())

    def dispose(self) -> None:
        self.engine.dispose()


def _lock_wait(deadline: float | None) -> float:
    """Seconds a SQLite transaction may wait for a lock: what is left until `deadline`, at most the busy timeout."""
    if deadline is None:
        return SQLITE_BUSY_TIMEOUT_S
    return max(0.0, min(SQLITE_BUSY_TIMEOUT_S, deadline - time.monotonic()))


def redacted(url: URL) -> str:
    """The URL as encounter shows it anywhere: the password and every password-like option as ***."""
    secrets = {key: "***" for key in url.query if _is_secret(key)}
    shown = url.update_query_dict(secrets).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")  # as readable as the hidden password (rendering escapes "*")


def _is_secret(option: str) -> bool:
    return any(marker in option.lower() for marker in SECRET_OPTION_MARKERS)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C until the block has run to its end, then raise it.

    Only in the main thread with Python's own handler in place: a server installs its own.
    """
    in_charge = threading.current_thread() is threading.main_thread()
    if not in_charge or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    except BaseException as error:
        if caught:  # the user asked to stop: no retry of what failed meanwhile
            raise KeyboardInterrupt from error
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def resolve_url(settings: Settings) -> URL:
    """Parse the URL, pick PyMySQL for MySQL, fill a missing password from password_file."""
    url = _parse_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_url(url)
    elif settings.password_file and url.password is None and not PASSWORD_OPTIONS & set(url.query):
        url = url.set(password=read_password_file(settings.password_file))
    return url


NOT_FILE_PATHS = {"", ":memory:", "-"}


def _parse_url(text: str) -> URL:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, from the environment or a config file
        raise Unavailable("database URL is not valid UTF-8 text") from None
    if "://" not in text and not URL_SCHEME.match(text):  # a plain file path: SQLite
        if text.strip() in NOT_FILE_PATHS:  # a file named ":memory:" or "-" is never what was meant
            raise Unavailable(f'"{text}" is not a database file path', hint="give a file path, e.g. --db ./clinic.db")
        return URL.create("sqlite", database=os.path.abspath(os.path.expanduser(text)))
    try:
        url = make_url(text)
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
    return url


def _check_sqlite_url(url: URL) -> None:
    """A file path and nothing else: an in-memory database would lose every write when the command ends."""
    hint = "use sqlite:///PATH, e.g. sqlite:////var/lib/encounter/clinic.db (four slashes for an absolute path)"
    if url.query:
        options = ", ".join(f'"{name}"' for name in url.query)
        raise Unavailable(f"SQLite database URLs take no options; remove {options}", hint=hint)
    if not url.database:
        raise Unavailable("the SQLite database path is empty (is a variable in the URL unset?)", hint=hint)
    if url.database == ":memory:":
        raise Unavailable("the SQLite database path is :memory:, which would lose every write", hint=hint)


def _make_engine(url: URL, pool: dict[str, int]) -> Engine:
    try:
        return _sqlite_engine(url, pool) if url.get_backend_name() == "sqlite" else _mysql_engine(url, pool)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise Unavailable(f"database URL is not usable: {type(exc).__name__}") from None


def _mysql_engine(url: URL, pool: dict[str, int]) -> Engine:
    connect_args = _mysql_connect_args(url)
    _check_url_options(url, connect_args)  # before create_engine, which already converts some of them
    return create_engine(
        url,
        hide_parameters=True,
        isolation_level="READ COMMITTED",  # each statement sees rows committed before it, e.g. after a lock wait
        pool_pre_ping=True,  # a connection the server dropped (a restart, wait_timeout) is replaced, not an error
        connect_args=connect_args,
        **pool,
    )


def _mysql_connect_args(url: URL) -> dict[str, object]:
    """Our connection settings; the timeouts give way to the same options written in the URL."""
    timeouts = {
        "connect_timeout": MYSQL_CONNECT_TIMEOUT_S,
        "read_timeout": MYSQL_IO_TIMEOUT_S,
        "write_timeout": MYSQL_IO_TIMEOUT_S,
    }
    return {
        **{name: seconds for name, seconds in timeouts.items() if name not in url.query},
        "charset": "utf8mb4",
        "init_command": f"SET SESSION innodb_lock_wait_timeout = {int(MYSQL_LOCK_WAIT_S)}",
    }


def _check_url_options(url: URL, connect_args: dict[str, object]) -> None:
    """Have PyMySQL check the URL's options now, without connecting: a bad one is exit 6, not a crash later."""
    if not url.query:
        return
    outside = sorted(FROM_OTHER_FILES & set(url.query))
    if outside:  # settings, passwords too, from a file that password_file's checks never see
        raise Unavailable(f'database URL option "{outside[0]}" is not supported', hint=OPTIONS_HINT)
    import pymysql

    dialect_class: type = url.get_dialect()
    dialect = dialect_class(dbapi=pymysql)
    problem = _driver_objection(dialect, url, connect_args)
    if problem is None:
        return
    for name, value in url.query.items():  # find the option at fault, to name it
        alone = _driver_objection(dialect, url.set(query={name: value}), connect_args)
        if alone is not None:
            detail = "" if _is_secret(name) else f": {alone}"  # PyMySQL's words may quote the value
            raise Unavailable(f'database URL option "{name}" is not usable{detail}', hint=OPTIONS_HINT)
    raise Unavailable(f"database URL options do not work together: {problem}", hint=OPTIONS_HINT)


def _driver_objection(dialect: Dialect, url: URL, connect_args: dict[str, object]) -> str | None:
    """What SQLAlchemy or PyMySQL says against connecting with these options, or None."""
    import inspect as signature_inspect

    import pymysql

    known = signature_inspect.signature(pymysql.connections.Connection.__init__).parameters
    try:
        _, options = dialect.create_connect_args(url)
        unknown = sorted(set(options) - set(known))
        if unknown:
            return f'PyMySQL has no connection option "{unknown[0]}"'
        if not any(name.startswith("ssl") for name in options):
            options["ssl_disabled"] = True  # spares loading the system's certificates (~50 ms) to check nothing
        pymysql.connections.Connection(**{**options, **connect_args}, defer_connect=True)
    except OSError as exc:  # a certificate file that is missing or unreadable
        return exc.strerror or type(exc).__name__
    except (TypeError, ValueError, NotImplementedError) as exc:
        return str(exc)
    return None


def _sqlite_engine(url: URL, pool: dict[str, int]) -> Engine:
    # An import's batch look-ups have thousands of IN parameters, a different number each time: sqlite3's
    # default cache of 128 prepared statements kept ~50 MB of them on a 1M-row import.
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, "cached_statements": SQLITE_CACHED_STATEMENTS}
    engine = create_engine(url, hide_parameters=True, connect_args=connect_args, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        # Write-ahead logging: a long read (an export piped to a slow reader) never blocks a writer's
        # commit. The mode is stored in the file, so only its first connection switches it.
        if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
        # SQLite's own lower() folds ASCII only; searches must find "Élodie" from "élodie" as MySQL does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        dbapi_connection.create_function(SQLITE_CONTAINS_FOLDED, -1, _contains_folded, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        options = conn.get_execution_options()
        wait_ms = int(options.get("encounter_wait_s", SQLITE_BUSY_TIMEOUT_S) * 1000)
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}").close()  # this transaction's share of the wait
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("encounter_write", False) else "BEGIN")

    return engine


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _contains_folded(needle: str, *values: object) -> bool:
    """Whether one of `values` holds `needle` (lower-cased), ignoring case: a search costs one call per row."""
    for value in values:  # noqa: SIM110 - a loop, not any(<generator>): this runs once per row searched
        if isinstance(value, str) and needle in value.lower():
            return True
    return False


def _create_private_file(path: Path) -> bool:
    """Create a new SQLite file readable by its owner only (it holds patient data). True if it was new."""
    if path.exists():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False  # another process created it first
    except OSError as exc:
        raise Unavailable(f"cannot create database file {path}: {exc.strerror}") from None
    return True


@contextmanager
def translate_errors(display_url: str) -> Iterator[None]:
    """Turn driver failures into `Unavailable` with a one-line cause and no password."""
    try:
        yield
    except IntegrityError:
        raise  # a constraint the services did not expect is a bug, not an outage
    except DBAPIError as exc:
        raise _classify(exc, display_url) from None
    except PoolTimeout:  # every connection of a server's pool stayed in use
        raise DatabaseBusy("database is busy (no free connection); nothing was written", hint="retry") from None


def _classify(exc: DBAPIError, display_url: str) -> Unavailable:
    args = exc.orig.args if exc.orig is not None else ()
    code = args[0] if args else None
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    sqlite_error = getattr(exc.orig, "sqlite_errorname", "")  # Python 3.11+; the text below is 3.10's fallback
    if code in MYSQL_TRANSIENT or sqlite_error in SQLITE_TRANSIENT or "database is locked" in text:
        cause = MYSQL_TRANSIENT.get(code, "database is locked") if isinstance(code, int) else "database is locked"
        return DatabaseBusy(f"database is busy ({cause}); nothing was written", hint="retry the command")
    if code in MYSQL_CONNECTION_LOST and isinstance(getattr(exc.orig, "__context__", None), TimeoutError):
        return Unavailable(
            f"cannot use database {display_url}: the server did not answer in time",
            hint="check the host and port; if the server is only slow, raise ?read_timeout=SECONDS in the URL "
            f"(default {MYSQL_IO_TIMEOUT_S})",
        )
    if code == MYSQL_MISSING_TABLE or "no such table" in text:
        return Unavailable(f"the encounter tables are missing in {display_url}", hint=INIT_HINT)
    if isinstance(code, int) and isinstance(args[-1], str):
        text = args[-1]  # MySQL's message without its code
    return Unavailable(f"cannot use database {display_url}: {text}")
