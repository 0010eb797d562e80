"""Rendering of records in every format: Rich tables for people, json/ndjson/csv for scripts.

Records are dicts of plain Python values keyed by the Python field names.
Machine formats stream row by row to stdout; only `table` uses Rich.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from encounter_cli.cli.options import OutputFormat
from encounter_cli.clinic_time import show, show_short

DEFAULT_TABLE_ROWS = 100
PIPED_TABLE_WIDTH = 160

PATIENT_FIELDS = ("id", "first_name", "last_name", "email", "phone", "date_of_birth", "created_at", "updated_at")
DOCTOR_FIELDS = ("id", "full_name", "specialization", "is_active", "created_at", "updated_at")
APPOINTMENT_FIELDS = (
    "id", "patient_id", "doctor_id", "start_time", "end_time", "duration_minutes", "status",
    "reason", "cancelled_at", "cancellation_reason", "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """How one entity prints: every field for `show` and machine formats, fewer columns in list tables."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]


PATIENT = Kind("Patient", PATIENT_FIELDS, PATIENT_FIELDS[:6])
DOCTOR = Kind("Doctor", DOCTOR_FIELDS, DOCTOR_FIELDS[:4])
APPOINTMENT = Kind(
    "Appointment", APPOINTMENT_FIELDS, ("id", "start_time", "end_time", "doctor_id", "patient_id", "status", "reason")
)


def show_record(obj, kind: Kind, fmt: OutputFormat, zone: ZoneInfo) -> None:
    print_one(record(obj, kind.fields), fmt, zone, f"{kind.name} {obj.id}")


def show_listing(listing, kind: Kind, fmt: OutputFormat, zone: ZoneInfo, limit: int | None) -> None:
    """A service `Listing`: streamed in machine formats, one page with a count of the rest in a table."""
    print_many(
        (record(obj, kind.fields) for obj in listing),
        fmt,
        zone,
        fields=kind.fields,
        columns=kind.columns,
        title=f"{kind.name}s",
        limit=limit,
        count_rest=lambda shown: listing.total() - listing.offset - shown,
    )


def page_size(fmt: OutputFormat, limit: int | None) -> int | None:
    """Rows to fetch: a table shows one page (so its total can be counted after); machine formats stream all."""
    return limit or (DEFAULT_TABLE_ROWS if fmt == OutputFormat.table else None)


def record(obj: object, fields: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in fields}


def print_one(item: dict, fmt: OutputFormat, zone: ZoneInfo, title: str) -> None:
    """One record: an object for json, a key/value table for people."""
    if fmt == OutputFormat.table:
        _print_vertical_table(item, zone, title)
    elif fmt == OutputFormat.json:
        _write(json.dumps(_machine(item, zone), ensure_ascii=False, indent=2) + "\n")
    else:
        print_many(iter([item]), fmt, zone, fields=tuple(item), columns=tuple(item), title=title)


def print_many(
    items: Iterator[dict],
    fmt: OutputFormat,
    zone: ZoneInfo,
    *,
    fields: tuple[str, ...],
    columns: tuple[str, ...],
    title: str,
    limit: int | None = None,
    count_rest: Callable[[int], int] | None = None,
) -> None:
    """A list of records. Tables stop at 100 rows unless `limit` is given, and say how many were left out."""
    if fmt == OutputFormat.table:
        page = limit or DEFAULT_TABLE_ROWS
        shown = list(islice(items, page))
        _print_table(shown, columns, zone, title)
        left_out = count_rest(len(shown)) if count_rest and len(shown) == page else 0
        if left_out:
            print(f"{left_out} more not shown; use --limit and --offset to see them", file=sys.stderr)
    elif fmt == OutputFormat.json:
        _stream_json_array(items, zone)
    elif fmt == OutputFormat.ndjson:
        for item in items:
            _write(json.dumps(_machine(item, zone), ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(fields)
        for item in items:
            writer.writerow(_csv_value(value) for value in _machine(item, zone).values())


def _stream_json_array(items: Iterable[dict], zone: ZoneInfo) -> None:
    separator = "[\n"
    for item in items:
        _write(separator + "  " + json.dumps(_machine(item, zone), ensure_ascii=False))
        separator = ",\n"
    _write("[]\n" if separator == "[\n" else "\n]\n")


def _machine(item: dict, zone: ZoneInfo) -> dict:
    return {key: _machine_value(value, zone) for key, value in item.items()}


def _machine_value(value: object, zone: ZoneInfo) -> object:
    if isinstance(value, datetime):
        return show(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _table_value(value: object, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return show_short(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _console():
    from rich.console import Console

    # When piped, a fixed wide layout keeps each row on one line and drops colour.
    terminal = sys.stdout.isatty()
    # Stored text is data, never Rich markup or :emoji: codes: "[/b]" in a name must print as typed.
    width = None if terminal else PIPED_TABLE_WIDTH
    return Console(file=sys.stdout, width=width, markup=False, emoji=False, highlight=False)


def _print_table(items: list[dict], columns: tuple[str, ...], zone: ZoneInfo, title: str) -> None:
    from rich.table import Table

    table = Table(title=f"{title} ({len(items)})", title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(*(_table_value(item[name], zone) for name in columns), end_section=False)
    _console().print(table)


def _print_vertical_table(item: dict, zone: ZoneInfo, title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in item.items():
        table.add_row(name, _table_value(value, zone))
    _console().print(table)


def _write(text: str) -> None:
    sys.stdout.write(text)
