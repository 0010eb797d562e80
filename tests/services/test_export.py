"""Export lines are what json.dumps and csv.writer make of the same values, whatever the values."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encounter_cli import export
from encounter_cli.csv_cells import escape_ambiguous, escape_formula
from encounter_cli.services.common import StoredColumn

ZONE = ZoneInfo("Europe/Berlin")
COLUMNS = [StoredColumn(name) for name in ("id", "text", "flag", "moment", "day")]
values = st.tuples(
    st.integers(-(2**63), 2**63) | st.none(),
    st.text() | st.sampled_from(["'=1+2", "a,b", 'say "hi"', "two\nlines", "cr\r", "+44 20", ""]) | st.none(),
    st.booleans() | st.none(),
    st.datetimes(timezones=st.just(timezone.utc), min_value=datetime(2, 1, 1), max_value=datetime(9997, 1, 1))
    | st.none(),
    st.dates() | st.none(),
)


def as_python(row: tuple) -> list:
    number, text, flag, moment, day = row
    return [number, text, flag, moment.astimezone(ZONE).isoformat() if moment else None, day and day.isoformat()]


def csv_writer_line(row: tuple, escape) -> str:
    buffer = io.StringIO()
    cells = ["" if v is None else ("true" if v else "false") if isinstance(v, bool) else v for v in as_python(row)]
    # With "\r\n" line ends csv.writer quotes a lone "\r" too (with "\n" it would not, and no reader reads it back).
    csv.writer(buffer, lineterminator="\r\n").writerow([escape(c) if isinstance(c, str) else c for c in cells])
    return buffer.getvalue().removesuffix("\r\n")


@settings(max_examples=300)
@given(st.lists(values, min_size=1, max_size=20))
def test_json_lines_are_what_json_dumps_makes(rows):
    lines = list(export.line_maker(COLUMNS, "json", ZONE)(rows))
    names = [column.name for column in COLUMNS]
    assert lines == [json.dumps(dict(zip(names, as_python(row), strict=True)), ensure_ascii=False) for row in rows]


@settings(max_examples=300)
@given(st.lists(values, min_size=1, max_size=20), st.sampled_from(["csv", "csv-safe"]))
def test_csv_lines_are_what_csv_writer_makes(rows, fmt):
    escape = escape_formula if fmt == "csv-safe" else escape_ambiguous
    lines = list(export.line_maker(COLUMNS, fmt, ZONE)(rows))
    assert lines == [csv_writer_line(row, escape) for row in rows]
    parsed = list(csv.reader(io.StringIO("\n".join(lines) + "\n")))
    assert len(parsed) == len(rows)  # quoted newlines stay inside their cell


def test_a_column_with_more_distinct_values_than_the_cache_holds_stays_right():
    column = [StoredColumn("moment", load=lambda raw: datetime.fromisoformat(raw).replace(tzinfo=timezone.utc))]
    rows = [(f"2030-03-31 {hour:02}:{minute:02}:00",) for _ in range(2) for hour in range(24) for minute in range(60)]
    rows *= export.CACHE_LIMIT // len(rows) + 2
    lines = list(export.line_maker(column, "csv", ZONE)(rows))
    assert lines[60] == "2030-03-31T03:00:00+02:00"  # 01:00 UTC, the first hour of summer time
    assert lines[59] == "2030-03-31T01:59:00+01:00"
    expected = [
        datetime.fromisoformat(raw).replace(tzinfo=timezone.utc).astimezone(ZONE).isoformat() for (raw,) in rows
    ]
    assert lines == expected


def test_an_empty_batch_has_no_lines():
    assert list(export.line_maker(COLUMNS, "json", ZONE)([])) == []


def test_never_null_integers_print_as_numbers():
    column = [StoredColumn("id", never_null_int=True)]
    assert list(export.line_maker(column, "json", ZONE)([(7,), (12,)])) == ['{"id": 7}', '{"id": 12}']
    assert list(export.line_maker(column, "csv", ZONE)([(7,)])) == ["7"]


ODD_ZONES = ["Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "Africa/Casablanca"]


@settings(max_examples=400)
@given(
    st.lists(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9997, 12, 31)), min_size=1, max_size=30),
    st.sampled_from(ODD_ZONES),
    st.booleans(),
)
def test_stored_utc_times_print_as_aware_isoformat_in_any_zone(moments, zone_name, as_sqlite_text):
    """Stored times take the clinic's offset of their day (looked up once per day): across changes too."""
    zone = ZoneInfo(zone_name)
    column = [StoredColumn("start_time", utc_time=True)]
    rows = [(str(moment) if as_sqlite_text else moment,) for moment in moments]  # SQLite hands over ISO text
    expected = [moment.replace(tzinfo=timezone.utc).astimezone(zone).isoformat() for moment in moments]
    assert list(export.line_maker(column, "csv", zone)(rows)) == expected


def test_times_around_a_daylight_saving_change_take_the_offset_of_their_instant():
    column = [StoredColumn("start_time", utc_time=True)]
    rows = [(datetime(2030, 3, 31, 0, 59),), (datetime(2030, 3, 31, 1, 0),), (datetime(2030, 10, 27, 0, 59),)]
    lines = list(export.line_maker(column, "json", ZONE)(rows))
    assert lines == [
        '{"start_time": "2030-03-31T01:59:00+01:00"}',
        '{"start_time": "2030-03-31T03:00:00+02:00"}',
        '{"start_time": "2030-10-27T02:59:00+02:00"}',
    ]


def test_a_legacy_null_or_text_in_an_integer_column_still_prints_valid_lines():
    """The model says NOT NULL integer; a shared legacy table may disagree. Such a batch takes the slow path."""
    column = [StoredColumn("patient_id", never_null_int=True)]
    rows = [(7,), (None,), ("x,1",)]
    assert [json.loads(line) for line in export.line_maker(column, "json", ZONE)(rows)] == [
        {"patient_id": 7},
        {"patient_id": None},
        {"patient_id": "x,1"},
    ]
    assert list(export.line_maker(column, "csv", ZONE)(rows)) == ["7", "", '"x,1"']


def test_legacy_time_text_with_an_offset_is_read_as_utc_like_the_orm_reads_it():
    column = [StoredColumn("created_at", utc_time=True)]
    rows = [("2020-01-01 00:00:00+02:00",), ("2020-01-01T00:00:00Z",)]
    assert list(export.line_maker(column, "csv", ZONE)(rows)) == ["2020-01-01T01:00:00+01:00"] * 2


@pytest.mark.parametrize("zone_name", ["UTC", "America/New_York", "Africa/Monrovia", "Asia/Tokyo"])
def test_the_first_and_last_days_a_datetime_holds_print_instead_of_failing(zone_name):
    zone = ZoneInfo(zone_name)
    moments = [datetime(1, 1, 1, 12), datetime(9999, 12, 31, 10)]
    expected = []
    for moment in moments:
        try:
            expected.append(moment.replace(tzinfo=timezone.utc).astimezone(zone).isoformat())
        except OverflowError:  # no aware time to compare with: then the line only must not fail either way
            return
    lines = list(export.line_maker([StoredColumn("start_time", utc_time=True)], "csv", zone)([(m,) for m in moments]))
    assert lines == expected
