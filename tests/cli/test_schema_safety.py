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
