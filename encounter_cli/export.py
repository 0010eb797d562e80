"""Machine-format lines (json, csv) of stored rows, fast enough for a decade of history.

A line is built by one formatter per column, made once per command. A
column's text is computed once per distinct value and kept in a bounded
cache, so a time is converted to the clinic's zone once, not once per row (an
export in start order meets each start time many times in a row), and
values that repeat (statuses, reasons, doctor ids) cost a dictionary look-up.

The text equals what `json.dumps` and `csv.writer` (with CRLF line ends, so
a lone CR is quoted) make of the same values; tests/services/test_export.py
holds it to that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from json.encoder import encode_basestring
from typing import Any

from encounter_cli.clinic_time import show
from encounter_cli.csv_cells import escape_ambiguous, escape_formula
from encounter_cli.services.common import StoredColumn

CACHE_LIMIT = 10_000  # distinct values kept per column: memory stays flat on unique ones (ids, emails)
# A cell with one of these is quoted (RFC 4180). csv.writer with "\n" line ends would leave a lone "\r" bare,
# and no CSV reader reads that back.
CSV_QUOTED = re.compile(r'[,"\r\n]')

DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)

Lines = Callable[[Sequence[Sequence[Any]]], Iterator[str]]
ColumnTexts = Callable[[Sequence[Any]], Iterator[str]]


def line_maker(columns: Sequence[StoredColumn], fmt: str, zone: tzinfo) -> Lines:
    """A function from a batch of rows (values in `columns` order) to their lines, without newlines.

    `fmt`: "json" (an object per row, as in ndjson), "csv", or "csv-safe" (no cell can start a formula).
    """
    if fmt == "json":
        texts = [_json_member(column, zone) for column in columns]
        return lambda rows: map("{{{}}}".format, _joined(texts, rows, ", "))
    escape = escape_formula if fmt == "csv-safe" else escape_ambiguous
    templates = _Templates(null="", integer="{}", time="{}")
    texts = [_column_texts(column, lambda value: csv_text(value, zone, escape), templates, zone) for column in columns]
    return lambda rows: _joined(texts, rows, ",")


def _joined(texts: list[ColumnTexts], rows: Sequence[Sequence[Any]], separator: str) -> Iterator[str]:
    """Each row's texts joined. Column by column, so every look-up and join runs in C; only new values reach
    Python (`_Texts.__missing__`)."""
    columns = zip(*rows, strict=True)  # an empty batch has no columns at all
    by_column = [texts_of(values) for texts_of, values in zip(texts, columns, strict=bool(rows))]
    return map(separator.join, zip(*by_column, strict=True))


def _json_member(column: StoredColumn, zone: tzinfo) -> ColumnTexts:
    """The text of one member of a row's object, key included: `"id": 7`."""
    key = json.dumps(column.name) + ": "
    templates = _Templates(null=key + "null", integer=key + "{}", time=key + '"{}"')
    return _column_texts(column, lambda value: key + json_text(value, zone), templates, zone)


def csv_header(columns: Sequence[StoredColumn]) -> str:
    return ",".join(_csv_quoted(column.name) for column in columns)


def machine_value(value: object, zone: tzinfo) -> object:
    """The JSON value of a stored value: times in the clinic's zone with their offset, dates in ISO form."""
    if isinstance(value, datetime):
        return show(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return value


def machine_values(item: Mapping[str, object], zone: tzinfo) -> dict[str, object]:
    """A record's values as `-o json` shows them, each as `machine_value` gives it."""
    return {name: machine_value(value, zone) for name, value in item.items()}


def machine_record(obj: object, zone: tzinfo) -> dict[str, object]:
    """A stored record as `-o json` and the HTTP API show it: every field, in `fields_of` order."""
    from encounter_cli.models import fields_of

    model: type = type(obj)
    return machine_values({name: getattr(obj, name) for name in fields_of(model)}, zone)


def json_text(value: object, zone: tzinfo) -> str:
    shown = machine_value(value, zone)
    return encode_basestring(shown) if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)


def csv_text(value: object, zone: tzinfo, escape: Callable[[str], str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = machine_value(value, zone)
    return _csv_quoted(escape(shown)) if isinstance(shown, str) else str(shown)


def _csv_quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if CSV_QUOTED.search(text) else text


@dataclass(frozen=True)
class _Templates:
    """A format's text for NULL, and templates for the values that skip `to_text`: never-null integers
    and clinic times (whose ISO text needs no escaping or quoting in csv)."""

    null: str
    integer: str
    time: str


def _column_texts(
    column: StoredColumn, to_text: Callable[[Any], str], templates: _Templates, zone: tzinfo
) -> ColumnTexts:
    """A function from one column's values in a batch to their texts."""
    load = column.load
    if column.utc_time:  # the costliest values: the clinic's offset is found once per day, not per value
        clock, as_time = _ClinicClock(zone), templates.time.format
        times = _Texts(lambda raw: as_time(clock.iso(raw)), templates.null).__getitem__
        return lambda values: map(times, values)
    texts = _Texts(to_text if load is None else lambda raw: to_text(load(raw)), templates.null).__getitem__
    if not column.never_null_int:
        return lambda values: map(texts, values)
    as_integer = templates.integer.format  # ids: unique values would only churn the cache
    # A legacy table may still hold a NULL (or text) where the model says integer: then that batch goes slowly.
    return lambda values: map(as_integer if set(map(type, values)) == {int} else texts, values)


class _ClinicClock:
    """Naive UTC times -> ISO 8601 in the clinic's zone with its offset, as `aware.isoformat()` gives them.

    The offset is looked up once per UTC day and reused for every time in it: tzdata never changes an
    offset twice within a day, so equal offsets at both ends mean one offset throughout. A day with a
    change is converted value by value.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.days: dict[int, tuple[timedelta, str] | None] = {}  # day ordinal -> (offset, its text), or None

    def iso(self, stored: datetime | str) -> str:
        """`stored`: a UTC time as the driver gives it, a naive datetime (MySQL) or its ISO text (SQLite)."""
        utc = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
        utc = utc.replace(tzinfo=None)  # legacy text with an offset: read as UTC, as the ORM reads it
        day = utc.toordinal()
        if day not in self.days:
            if len(self.days) >= CACHE_LIMIT:
                self.days.clear()
            self.days[day] = self._day_offset(utc)
        known = self.days[day]
        if known is None:
            return self._local(utc).isoformat()
        shift, suffix = known
        return (utc + shift).isoformat() + suffix

    def _day_offset(self, utc: datetime) -> tuple[timedelta, str] | None:
        midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            first, last = self._local(midnight), self._local(midnight + DAY - MICROSECOND)
        except OverflowError:  # the first or last day a datetime holds: value by value
            return None
        if first.utcoffset() != last.utcoffset():
            return None
        suffix = first.isoformat().removeprefix(first.replace(tzinfo=None).isoformat())  # "+02:00"
        return first.utcoffset() or timedelta(0), suffix

    def _local(self, utc: datetime) -> datetime:
        return utc.replace(tzinfo=timezone.utc).astimezone(self.zone)


class _Texts(dict[Any, str]):
    """Text per driver value, made on first sight (`__missing__`); a known value is a look-up in C."""

    def __init__(self, to_text: Callable[[Any], str], null_text: str) -> None:
        super().__init__({None: null_text})
        self.to_text = to_text
        self.null_text = null_text

    def __missing__(self, value: Any) -> str:
        if len(self) >= CACHE_LIMIT:
            self.clear()
            self[None] = self.null_text
        text = self[value] = self.to_text(value)
        return text
