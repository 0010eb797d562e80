"""`db init` touches only our tables; `db check` reports drift and never changes anything."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import create_engine, text

from tests.helpers import error_json

FOREIGN_TABLES = {
    # Another application's tables in the shared database, including look-alike names.
    "legacyPatients": "CREATE TABLE legacyPatients (id INTEGER PRIMARY KEY, note VARCHAR(50))",
    "patients_archive": "CREATE TABLE patients_archive (id INTEGER PRIMARY KEY, email VARCHAR(50))",
}


def foreign_snapshot(url: str) -> dict[str, tuple]:
    """Definition and rows of each foreign table."""
    engine = create_engine(url)
    snapshot = {}
    with engine.connect() as conn:
        for name in FOREIGN_TABLES:
            if engine.dialect.name == "sqlite":
                ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}).scalar()
            else:
                ddl = conn.execute(text(f"SHOW CREATE TABLE `{name}`")).one()[1]
            snapshot[name] = (ddl, conn.execute(text(f"SELECT * FROM {name} ORDER BY id")).all())
    engine.dispose()
    return snapshot


@pytest.fixture
def foreign_tables(db_url):
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for name, ddl in FOREIGN_TABLES.items():
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            conn.execute(text(ddl))
            conn.execute(text(f"INSERT INTO {name} VALUES (1, 'keep me'), (2, 'ünïcode ✓')"))
    yield
    with engine.begin() as conn:
        for name in FOREIGN_TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


def test_db_init_leaves_foreign_tables_untouched(run_cli, db_url, prefixed, foreign_tables):
    before = foreign_snapshot(db_url)
    run_cli("--db", db_url, "db", "init")
    run_cli(*prefixed, "db", "init")
    run_cli(*prefixed, "patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    assert foreign_snapshot(db_url) == before


def test_db_check_passes_on_a_fresh_schema(run_cli, prefixed):
    run_cli(*prefixed, "db", "init")
    assert "schema matches" in run_cli(*prefixed, "db", "check").stdout
    assert json.loads(run_cli(*prefixed, "db", "check", "-o", "json").stdout)["matches"] is True


def test_db_check_reports_missing_tables(run_cli, prefixed):
    result = run_cli(*prefixed, "db", "check", expect=6)
    assert "table scratchPatients is missing (run: encounter db init)" in result.stdout


def alter(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_db_check_catches_a_dropped_column_and_a_missing_index(run_cli, prefixed, db_url):
    run_cli(*prefixed, "db", "init")
    drop_index = (
        "DROP INDEX ux_scratchPatients_email ON scratchPatients"
        if db_url.startswith("mysql")
        else "DROP INDEX ux_scratchPatients_email"
    )
    alter(db_url, "ALTER TABLE scratchPatients DROP COLUMN phone", drop_index)
    result = run_cli(*prefixed, "db", "check", "-o", "json", expect=6)
    report = json.loads(result.stdout)
    assert report["matches"] is False
    assert report["differences"] == [
        "column scratchPatients.phone is missing",
        "UNIQUE index on scratchPatients(email) is missing",
    ]
    assert error_json(result)["type"] == "unavailable"
    assert run_cli(*prefixed, "db", "check", "-o", "json", expect=6).stdout == result.stdout  # nothing repaired


def test_db_check_catches_type_nullability_and_extra_columns(run_cli, prefixed, db_url):
    run_cli(*prefixed, "db", "init")
    if db_url.startswith("mysql"):
        alter(
            db_url,
            "ALTER TABLE scratchDoctors MODIFY specialization VARCHAR(50) NOT NULL",
            "ALTER TABLE scratchDoctors ADD COLUMN pager VARCHAR(20)",
            "ALTER TABLE scratchPatients MODIFY email VARCHAR(254) COLLATE utf8mb4_unicode_ci NOT NULL",
        )
    else:
        alter(db_url, "ALTER TABLE scratchDoctors ADD COLUMN pager VARCHAR(20)")
    differences = run_cli(*prefixed, "db", "check", expect=6).stdout.splitlines()
    assert "column scratchDoctors.pager is not in the model" in differences
    if db_url.startswith("mysql"):
        assert "column scratchDoctors.specialization is string(50), expected string(100)" in differences
        assert "column scratchPatients.email has collation the table default, expected utf8mb4_bin" in differences


def drop_doctor_foreign_key(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # SQLite cannot drop a constraint: rebuild the (empty) table without it
            ddl = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type != 'table' AND tbl_name = 'scratchAppointments'")
            )
            indexes = ddl.scalars().all()
            table = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'scratchAppointments'")).scalar()
            conn.execute(text("DROP TABLE scratchAppointments"))
            conn.execute(text(re.sub(r',\s*FOREIGN KEY\("doctorId"\)[^\n]*', "", table)))
            for statement in indexes:
                conn.execute(text(statement))
        else:
            name = conn.execute(
                text(
                    "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'scratchAppointments' "
                    "AND REFERENCED_TABLE_NAME = 'scratchDoctors'"
                )
            ).scalar_one()
            conn.execute(text(f"ALTER TABLE scratchAppointments DROP FOREIGN KEY `{name}`"))
    engine.dispose()


def test_db_check_catches_a_dropped_foreign_key(run_cli, prefixed, db_url):
    run_cli(*prefixed, "db", "init")
    drop_doctor_foreign_key(db_url)
    differences = run_cli(*prefixed, "db", "check", expect=6).stdout.splitlines()
    assert differences == ["foreign key scratchAppointments(doctorId) -> scratchDoctors(id) is missing"]


@pytest.mark.mysql_only
def test_db_check_catches_a_lost_auto_increment_and_a_latin1_column(run_cli, prefixed, db_url):
    run_cli(*prefixed, "db", "init")
    alter(
        db_url,
        "ALTER TABLE scratchDoctors MODIFY id INTEGER NOT NULL",
        "ALTER TABLE scratchDoctors MODIFY fullName VARCHAR(100) CHARACTER SET latin1 NOT NULL",
        "ALTER TABLE scratchPatients MODIFY email VARCHAR(254) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL",
    )
    differences = run_cli(*prefixed, "db", "check", expect=6).stdout.splitlines()
    assert differences == [
        "column scratchDoctors.id is not AUTO_INCREMENT",
        "column scratchDoctors.fullName has character set latin1, expected utf8mb4",
        "column scratchPatients.email has character set latin1, expected utf8mb4",
        "column scratchPatients.email has collation latin1_bin, expected utf8mb4_bin",
    ]


@pytest.mark.mysql_only
def test_db_check_catches_a_table_converted_to_latin1(run_cli, prefixed, db_url):
    run_cli(*prefixed, "db", "init")
    alter(db_url, "ALTER TABLE scratchDoctors CONVERT TO CHARACTER SET latin1")
    differences = run_cli(*prefixed, "db", "check", expect=6).stdout.splitlines()
    assert differences == [
        "column scratchDoctors.fullName has character set latin1, expected utf8mb4",
        "column scratchDoctors.specialization has character set latin1, expected utf8mb4",
    ]


def test_db_init_adds_the_indexes_a_newer_version_defines_to_an_existing_database(run_cli, prefixed, db_url):
    """A database made before the (patientId, startTime) and (startTime) indexes keeps its rows and gains them."""
    run_cli(*prefixed, "db", "init")
    on_table = " ON scratchAppointments" if db_url.startswith("mysql") else ""
    alter(
        db_url,
        f"DROP INDEX ix_scratchAppointments_start{on_table}",
        "CREATE INDEX ix_scratchAppointments_patient ON scratchAppointments (patientId)",  # the old index
        f"DROP INDEX ix_scratchAppointments_patient_start{on_table}",
    )
    run_cli(*prefixed, "doctor", "add", "--full-name", "A", "--specialization", "B")
    before = json.loads(run_cli(*prefixed, "db", "check", "-o", "json", expect=6).stdout)["differences"]
    assert before == [
        "index on scratchAppointments(patientId, startTime) is missing",
        "index on scratchAppointments(startTime) is missing",
    ]
    assert run_cli(*prefixed, "db", "init").stdout.startswith(
        "created index ix_scratchAppointments_patient_start, index ix_scratchAppointments_start in "
    )
    assert json.loads(run_cli(*prefixed, "db", "check", "-o", "json").stdout)["matches"] is True
    assert len(json.loads(run_cli(*prefixed, "doctor", "list", "-o", "json").stdout)) == 1
    assert "all tables and indexes already exist" in run_cli(*prefixed, "db", "init").stdout


@pytest.mark.mysql_only
def test_db_check_reads_a_mariadb_url_like_a_mysql_one(run_cli, db_url):
    """SQLAlchemy names table options after the dialect (`mariadb_default charset`), not always `mysql_...`."""
    mariadb_url = db_url.replace("mysql+pymysql://", "mariadb+pymysql://", 1)
    run_cli("--db", mariadb_url, "db", "init")
    assert json.loads(run_cli("--db", mariadb_url, "db", "check", "-o", "json").stdout)["matches"] is True
