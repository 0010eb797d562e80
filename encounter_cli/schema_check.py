"""Compare the live database schema with the models: tables, columns, indexes, foreign keys.

Read-only by design: `encounter db check` reports drift, and a person
decides what to do about it. Types are compared by kind (integer, string of
a length, date, datetime, boolean), since each database reflects its own
spelling of the same type (MySQL's BOOLEAN comes back as TINYINT). On MySQL
also the AUTO_INCREMENT of ids and the character set of text columns.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, Date, DateTime, Index, Integer, String, Table, inspect
from sqlalchemy.engine import Inspector
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.types import TypeDecorator, TypeEngine

from encounter_cli.db_types import ExactString
from encounter_cli.models import MYSQL_TABLE_OPTIONS, Models

RESTRICTIVE = {None, "RESTRICT", "NO ACTION"}  # the same behaviour under different names
EXACT_COLLATION = "utf8mb4_bin"
EXPECTED_CHARSET = MYSQL_TABLE_OPTIONS["mysql_charset"]


def schema_differences(conn: Connection, models: Models) -> list[str]:
    """One human-readable line per difference; empty when the schema matches."""
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    differences: list[str] = []
    for table in models.metadata.sorted_tables:
        if table.name not in existing:
            differences.append(f"table {table.name} is missing (run: encounter db init)")
            continue
        differences += _column_differences(inspector, table, conn.dialect.name)
        differences += _index_differences(inspector, table)
        differences += _foreign_key_differences(inspector, table)
    return differences


def _column_differences(inspector: Inspector, table: Table, dialect: str) -> list[str]:
    live = {column["name"]: column for column in inspector.get_columns(table.name)}
    # Table options are named after the dialect: "mysql_default charset" or "mariadb_default charset".
    table_charset = inspector.get_table_options(table.name).get(f"{dialect}_default charset")
    found = []
    for column in table.columns:
        name = f"{table.name}.{column.name}"
        reflected = live.pop(column.name, None)
        if reflected is None:
            found.append(f"column {name} is missing")
            continue
        found += _shape_differences(name, column, reflected)
        if dialect in ("mysql", "mariadb"):
            found += _mysql_differences(name, column, reflected, table_charset)
    found += [f"column {table.name}.{extra} is not in the model" for extra in live]
    return found


def _shape_differences(name: str, column: Column, reflected: ReflectedColumn) -> list[str]:
    """Type kind and nullability, compared alike on every database."""
    found = []
    expected, actual = _kind(column.type), _kind(reflected["type"])
    if expected != actual and not (expected == "boolean" and actual == "integer"):
        found.append(f"column {name} is {actual}, expected {expected}")
    if not column.primary_key and reflected["nullable"] != column.nullable:
        wanted = "NULL" if column.nullable else "NOT NULL"
        found.append(f"column {name} should be {wanted}")
    return found


def _mysql_differences(name: str, column: Column, reflected: ReflectedColumn, table_charset: str | None) -> list[str]:
    """What only MySQL lets drift: AUTO_INCREMENT ids, character sets, the exact-compare collation."""
    found = []
    if column is column.table.autoincrement_column and not reflected.get("autoincrement"):
        found.append(f"column {name} is not AUTO_INCREMENT")  # every insert without an id would fail
    if not isinstance(_unwrapped(column.type), String):
        return found
    charset = getattr(reflected["type"], "charset", None) or table_charset  # none reflected: the table's
    if charset != EXPECTED_CHARSET:
        found.append(f"column {name} has character set {charset}, expected {EXPECTED_CHARSET}")
    collation = getattr(reflected["type"], "collation", None)
    if isinstance(column.type, ExactString) and collation != EXACT_COLLATION:
        shown = collation or "the table default"  # MySQL reflects no collation when it is the default
        found.append(f"column {name} has collation {shown}, expected {EXACT_COLLATION}")
    return found


def _unwrapped(type_: TypeEngine) -> TypeEngine:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return type_


def _kind(type_: TypeEngine) -> str:
    type_ = _unwrapped(type_)
    if isinstance(type_, Boolean):
        return "boolean"
    if isinstance(type_, Integer):
        return "integer"
    if isinstance(type_, String):
        return f"string({type_.length})" if type_.length else "text"
    if isinstance(type_, DateTime):
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    return type(type_).__name__.lower()


def _index_differences(inspector: Inspector, table: Table) -> list[str]:
    found = []
    for index in missing_indexes(inspector, table):
        kind = "UNIQUE index" if index.unique else "index"
        found.append(f"{kind} on {table.name}({', '.join(column.name for column in index.columns)}) is missing")
    return found


def missing_indexes(inspector: Inspector, table: Table) -> list[Index]:
    """The model's indexes that no live index or unique constraint covers (same columns, same uniqueness)."""
    live = {(tuple(ix["column_names"]), bool(ix["unique"])) for ix in inspector.get_indexes(table.name)}
    live |= {(tuple(uc["column_names"]), True) for uc in inspector.get_unique_constraints(table.name)}
    return [
        index
        for index in sorted(table.indexes, key=lambda index: index.name or "")
        if (tuple(column.name for column in index.columns), bool(index.unique)) not in live
    ]


def _foreign_key_differences(inspector: Inspector, table: Table) -> list[str]:
    live = {
        (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"])): fk
        for fk in inspector.get_foreign_keys(table.name)
    }
    found = []
    for constraint in table.foreign_key_constraints:
        key = (
            tuple(column.name for column in constraint.columns),
            constraint.referred_table.name,
            tuple(element.column.name for element in constraint.elements),
        )
        reflected = live.get(key)
        described = f"foreign key {table.name}({', '.join(key[0])}) -> {key[1]}({', '.join(key[2])})"
        if reflected is None:
            found.append(f"{described} is missing")
        elif (reflected.get("options", {}).get("ondelete") or "RESTRICT").upper() not in RESTRICTIVE:
            found.append(f"{described} should be ON DELETE RESTRICT")
    return found
