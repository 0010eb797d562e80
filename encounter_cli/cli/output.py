"""Rendering for every command: Rich tables and plain lines for people, json/ndjson/csv for scripts.

Records are dicts of plain Python values keyed by the Python field names.
Machine formats stream row by row to stdout and keep every value exact; what
people read (tables, lines, messages on stderr) shows control characters as
visible escapes (`\\x1b`), so stored or typed text cannot drive the terminal.
Every write to stdout goes through `STDOUT`, so a full disk is reported as
such (exit 6) rather than as a bug.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, cast

import typer

from encounter_cli.cli.options import OutputFormat
from encounter_cli.clinic_time import show_short
from encounter_cli.domain import CONTROL_CODES
from encounter_cli.errors import Unavailable

if TYPE_CHECKING:
    from rich.console import Console

    from encounter_cli.services.common import StoredColumn

DEFAULT_TABLE_ROWS = 100
WRITE_BATCH = 1000  # machine-format lines per write
VERTICAL_BELOW = 60  # terminal columns: narrower ones list one record per block
MIN_TEXT_CELLS = 8  # a text column narrower than this shows too little: a list goes vertical then
UNBOUNDED_WIDTH = 100_000  # off a terminal rows are never wrapped or cut
SPAN_COLUMN = "when"  # a table column showing start_time and end_time as one span
# Columns of short fixed-format values keep their width; every other column may be shortened to fit.
FIXED_COLUMNS = frozenset({SPAN_COLUMN, "id", "status", "phone", "date_of_birth", "is_active", "doctor_id",
                           "patient_id", "start_time", "end_time", "created_at", "updated_at", "line",
                           "occurred_at", "action", "entity_id"})  # fmt: skip
SAVED_META_KEY = "encounter.saved"
UTC = timezone.utc  # reports hold no times; formats still take a zone

# The characters input refuses (domain.CONTROL_CODES), shown as Python escapes.
MESSAGE_ESCAPES = {code: chr(code).encode("unicode_escape").decode("ascii") for code in CONTROL_CODES}
CELL_ESCAPES = {code: text for code, text in MESSAGE_ESCAPES.items() if chr(code) not in "\n\t"}


def printable(text: str) -> str:
    """One line for a terminal: every control character as a visible escape (ESC as `\\x1b`)."""
    return text.translate(MESSAGE_ESCAPES)


def _cell(text: str) -> str:
    """A table cell keeps its line breaks and tabs (a reason may span lines); other controls are escaped."""
    return text.replace("\r\n", "\n").translate(CELL_ESCAPES)


# --- stdout, and what a failed write means ------------------------------------------------------


class OutputFailed(Unavailable):
    """stdout cannot be written (a full disk, an I/O error): not a bug, so not exit 1."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot write the output: {reason}", hint="check where the output goes (disk space, device)")


class _Stdout:
    """`sys.stdout` as it is now (CliRunner swaps it), a failed write raised as `OutputFailed`.

    A reader that went away (BrokenPipeError) is no failure: the app ends quietly then.
    """

    def write(self, text: str) -> int:
        try:  # no context manager: this runs once per exported row
            return sys.stdout.write(text)
        except OSError as error:
            raise _output_error(error) from None

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except OSError as error:
            raise _output_error(error) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stdout, name)


def _output_error(error: OSError) -> Exception:
    return error if isinstance(error, BrokenPipeError) else OutputFailed(error.strerror or type(error).__name__)


STDOUT = _Stdout()


def flush() -> None:
    """Write out what is buffered while a failure can still be reported (at exit it could not)."""
    STDOUT.flush()


def saved(ctx: typer.Context, change: str) -> None:
    """Note a committed change, so that if printing it fails the message says the change is not lost."""
    ctx.meta[SAVED_META_KEY] = change


def explain_lost_output(error: OutputFailed, ctx: typer.Context) -> None:
    change = ctx.meta.get(SAVED_META_KEY)
    if change:
        error.hint = f"the change itself was saved ({change}); only printing it failed"


def note(text: str) -> None:
    """A message for people, on stderr."""
    print(printable(text), file=sys.stderr)


def print_lines(lines: Iterable[str]) -> None:
    """Plain lines for people on stdout (db init, db check)."""
    for line in lines:
        STDOUT.write(printable(line) + "\n")


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one entity prints: every mapped field for `show` and machine formats, fewer columns in list tables.

    `name` is also the model's name in `models.Models`; `headings` names the list table's columns whose
    heading is not their field's name.
    """

    name: str
    columns: tuple[str, ...]
    headings: Mapping[str, str] = field(default_factory=dict)
    label: str = ""  # for titles of one record and of a list, where the model's name does not read well

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def list_title(self) -> str:
        return self.label or f"{self.name}s"


PATIENT = Kind("Patient", ("id", "first_name", "last_name", "email", "phone", "date_of_birth"))
DOCTOR = Kind("Doctor", ("id", "full_name", "specialization", "is_active"))
# People read names; the ids stay in `show` and the machine formats.
APPOINTMENT = Kind(
    "Appointment",
    ("id", SPAN_COLUMN, "patient_name", "doctor_name", "status", "reason"),
    headings={"patient_name": "patient", "doctor_name": "doctor"},
)


def show_record(obj, kind: Kind, fmt: OutputFormat, zone: tzinfo) -> None:
    from encounter_cli.models import fields_of

    item = record(obj, fields_of(obj.__class__))
    if fmt == OutputFormat.fhir:
        _print_fhir(kind, iter([item]), zone)
        return
    print_one(item, fmt, zone, f"{kind.title} {obj.id}")


def show_listing(
    listing, kind: Kind, fmt: OutputFormat, zone: tzinfo, limit: int | None, title: str | None = None
) -> None:
    """A service `Listing`: one page with a count of the rest in a table; machine formats stream stored rows.

    `title`: the table's, where it says more than the kind (`Appointments on 2026-12-01`)."""
    from encounter_cli.models import fields_of, models_of

    if fmt == OutputFormat.fhir:
        columns, rows = listing.stored_rows()
        _print_fhir(kind, _loaded(columns, rows), zone)
        return
    if fmt != OutputFormat.table:
        columns, rows = listing.stored_rows()
        _print_lines(columns, rows, fmt, zone)
        return
    fields = fields_of(getattr(models_of(listing.session), kind.name))
    print_many(
        (record(obj, fields) for obj in listing),
        fmt,
        zone,
        fields=fields,
        columns=kind.columns,
        headings=kind.headings,
        title=title or kind.list_title,
        limit=limit,
        count_rest=lambda shown: listing.total() - listing.offset - shown,
    )


def page_size(fmt: OutputFormat, limit: int | None) -> int | None:
    """Rows to fetch. A table shows one page and fetches one row more, which tells whether any were left out
    (only then are they counted); machine formats stream every row unless --limit says otherwise."""
    if fmt == OutputFormat.table:
        return (limit or DEFAULT_TABLE_ROWS) + 1
    return limit


def record(obj: object, fields: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in fields}


def print_one(item: dict, fmt: OutputFormat, zone: tzinfo, title: str) -> None:
    """One record: an object for json, one line for ndjson, header and row for csv, a key/value table for people."""
    if fmt == OutputFormat.table:
        _print_vertical_table(item, zone, title)
    elif fmt == OutputFormat.json:
        from encounter_cli.export import machine_values

        STDOUT.write(json.dumps(machine_values(item, zone), ensure_ascii=False, indent=2) + "\n")
    else:
        print_many(iter([item]), fmt, zone, fields=tuple(item), columns=tuple(item), title=title)


def print_many(
    items: Iterator[dict],
    fmt: OutputFormat,
    zone: tzinfo,
    *,
    fields: tuple[str, ...],
    columns: tuple[str, ...],
    title: str,
    limit: int | None = None,
    count_rest: Callable[[int], int] | None = None,
    headings: Mapping[str, str] | None = None,
) -> None:
    """A list of records. Tables stop at 100 rows unless `limit` is given, and say how many were left out.

    `headings`: a table column's heading where it is not the field's name."""
    if fmt == OutputFormat.table:
        page = limit or DEFAULT_TABLE_ROWS
        fetched = list(islice(items, page + 1))
        shown = fetched[:page]
        _print_table(shown, columns, zone, title, headings or {})
        left_out = count_rest(len(shown)) if count_rest and len(fetched) > page else 0
        if left_out:
            note(f"{left_out} more not shown; use --limit and --offset to see them")
    else:
        from encounter_cli.services.common import StoredColumn

        rows = (tuple(item[name] for name in fields) for item in items)
        _print_lines([StoredColumn(name) for name in fields], rows, fmt, zone)


# --- reports that are not stored records: db info, db check, import -----------------------------


def show_facts(
    facts: Mapping[str, Any], fmt: OutputFormat, title: str, for_people: Mapping[str, Any] | list[str] | None = None
) -> None:
    """A report as one record: nested mappings become `outer.inner` columns in csv, a list one item per line.

    For people: `for_people` (default: the facts) as a key/value table, or as plain lines if it is a list.
    """
    if fmt == OutputFormat.table:
        if isinstance(for_people, list):
            print_lines(for_people)
        else:
            _print_vertical_table(dict(for_people or facts), UTC, title)
    elif fmt == OutputFormat.json:
        STDOUT.write(json.dumps(facts, ensure_ascii=False, indent=2) + "\n")
    elif fmt == OutputFormat.ndjson:
        STDOUT.write(json.dumps(facts, ensure_ascii=False) + "\n")
    else:
        print_one(_flat(facts), fmt, UTC, title)


def _flat(facts: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in facts.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = "\n".join(map(str, value)) if isinstance(value, list) else value
    return flat


def show_import_report(report: dict[str, Any], fmt: OutputFormat) -> None:
    """json/ndjson: the report object; csv: one row per rejected row; people read the summary on stderr."""
    if fmt in (OutputFormat.json, OutputFormat.ndjson):
        show_facts(report, fmt, "Import")
    elif fmt.is_csv:
        columns = ("line", "field", "type", "message")
        print_many(iter(report["rejected"]), fmt, UTC, fields=columns, columns=columns, title="Rejected")


# --- value conversion and tables ---------------------------------------------------------------


def _print_lines(columns: list[StoredColumn], rows: Iterator[Sequence[Any]], fmt: OutputFormat, zone: tzinfo) -> None:
    """Rows in a machine format, a batch of lines per write: csv (a header, then rows), ndjson, or a json array."""
    from encounter_cli import export

    lines_of = export.line_maker(columns, "json" if fmt == OutputFormat.ndjson else fmt.value, zone)
    batches = (list(lines_of(batch)) for batch in iter(lambda: list(islice(rows, WRITE_BATCH)), []))
    if fmt == OutputFormat.json:
        opening = "[\n  "  # one object per line, as people read it too
        for batch in batches:
            STDOUT.write(opening + ",\n  ".join(batch))
            opening = ",\n  "
        STDOUT.write("[]\n" if opening == "[\n  " else "\n]\n")
        return
    if fmt.is_csv:
        STDOUT.write(export.csv_header(columns) + "\n")
    for batch in batches:
        STDOUT.write("\n".join(batch) + "\n")


def _loaded(columns: list[StoredColumn], rows: Iterator[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Stored rows as records of the ORM's values (aware UTC times), one at a time."""
    loads = [(column.name, column.load or (lambda value: value)) for column in columns]
    for row in rows:
        yield {name: load(value) for (name, load), value in zip(loads, row, strict=True)}


def _print_fhir(kind: Kind, items: Iterator[Mapping[str, Any]], zone: tzinfo) -> None:
    """Records as FHIR R4 resources, NDJSON (encounter_cli.fhir), a batch of lines per write."""
    from encounter_cli.fhir import resources

    lines = (
        json.dumps(resource, ensure_ascii=False) for item in items for resource in resources(kind.name, item, zone)
    )
    for batch in iter(lambda: list(islice(lines, WRITE_BATCH)), []):
        STDOUT.write("\n".join(batch) + "\n")


# --- tables for people -------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """Where a table goes. A terminal: its width, styles unless NO_COLOR or TERM=dumb, long text shortened
    with an ellipsis. Anything else (a pipe, a file, CliRunner): plain ASCII, one unbroken line per row."""

    terminal: bool
    width: int
    styled: bool

    @property
    def dash(self) -> str:
        return "\u2013" if self.terminal else "-"  # an en dash between the two times of a span

    @property
    def vertical(self) -> bool:
        return self.terminal and self.width < VERTICAL_BELOW


def screen() -> Screen:
    """The stdout screen, as Rich judges it (TTY_COMPATIBLE=1 and COLUMNS stand in for a terminal in tests)."""
    from rich.console import Console

    probe = Console(file=cast(IO[str], STDOUT))
    styled = probe.is_terminal and not os.environ.get("NO_COLOR") and not probe.is_dumb_terminal
    return Screen(terminal=probe.is_terminal, width=probe.width, styled=styled)


def console(where: Screen) -> Console:
    """A Console for `where`. Stored text is data, never Rich markup or :emoji: codes: "[/b]" in a name prints
    as typed. No colour system means no escape codes at all (NO_COLOR asks for no bold or italic either)."""
    from rich.console import Console

    width = where.width if where.terminal else UNBOUNDED_WIDTH
    return Console(
        file=cast(IO[str], STDOUT),  # a text stream by duck typing: writes, flushes, and the rest of sys.stdout
        width=width,
        color_system="auto" if where.styled else None,
        force_terminal=where.terminal,
        markup=False,
        emoji=False,
        highlight=False,
    )


def _span(start: datetime | None, end: datetime | None, zone: tzinfo, dash: str) -> str:
    """`2026-12-01 09:30–10:00`; the end's date only when it falls on another day."""
    if start is None or end is None:
        return show_short(start or end, zone)
    first, last = show_short(start, zone), show_short(end, zone)
    return f"{first}{dash}{last[11:] if last[:10] == first[:10] else last}"


def _table_value(item: Mapping[str, Any], name: str, zone: tzinfo, where: Screen) -> str:
    if name == SPAN_COLUMN:
        return _span(item.get("start_time"), item.get("end_time"), zone, where.dash)
    value = item[name]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return show_short(value, zone)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _titled(title: str, columns: Iterable[str], zone: tzinfo) -> str:
    """A table that shows times names their zone: `Appointments on 2026-12-01 (America/New_York)`."""
    shows_times = any(name == SPAN_COLUMN or name.endswith(("_time", "_at")) for name in columns)
    return f"{title} ({getattr(zone, 'key', zone)})" if shows_times else title


def _print_table(
    items: list[dict], columns: tuple[str, ...], zone: tzinfo, title: str, headings: Mapping[str, str]
) -> None:
    where = screen()
    heading = f"{_titled(title, columns, zone)}: {len(items)}"
    # One line per row: line breaks and other controls in stored text show as escapes here.
    rows = [[printable(_table_value(item, name, zone, where)) for name in columns] for item in items]
    if where.vertical or (where.terminal and _text_gets_too_little(rows, columns, headings, where.width)):
        _print_records(items, columns, zone, heading, headings, where)
        return
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in columns:
        # Fixed-format columns keep their width; text columns give way, shortened with an ellipsis.
        fixed = name in FIXED_COLUMNS
        table.add_column(Text(headings.get(name, name), no_wrap=True, overflow="ellipsis"), no_wrap=fixed)
    for row in rows:
        table.add_row(*(Text(cell, no_wrap=True, overflow="ellipsis") for cell in row))
    _print_plain(Group(_title(heading), table), where)


def _text_gets_too_little(
    rows: list[list[str]], columns: tuple[str, ...], headings: Mapping[str, str], width: int
) -> bool:
    """Whether the text columns would be left fewer than MIN_TEXT_CELLS each beside the fixed ones (a span
    past midnight is 33 cells): then records read better one per block than as `Ma…  Gr…` columns."""
    from rich.cells import cell_len

    fixed = [i for i, name in enumerate(columns) if name in FIXED_COLUMNS]
    used = sum(
        max([cell_len(headings.get(columns[i], columns[i]))] + [cell_len(row[i]) for row in rows]) for i in fixed
    )
    left = width - used - 2 * (len(columns) - 1)  # two spaces between columns
    return left < MIN_TEXT_CELLS * (len(columns) - len(fixed))


def _print_records(
    items: list[dict], columns: tuple[str, ...], zone: tzinfo, heading: str, headings: Mapping[str, str], where: Screen
) -> None:
    """A narrow terminal: each record a block of `field  value` lines."""
    from rich.console import Group
    from rich.text import Text

    blocks = [_record_grid({headings.get(name, name): _table_value(item, name, zone, where) for name in columns})
              for item in items]  # fmt: skip
    spaced = [part for block in blocks for part in (Text(""), block)]
    _print_plain(Group(_title(heading), *spaced), where)


def _record_grid(values: Mapping[str, str]) -> Any:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in values.items():
        grid.add_row(printable(name), _cell(value))
    return grid


def _print_vertical_table(item: dict, zone: tzinfo, title: str) -> None:
    """One record: a `field  value` line per field, long values folded onto further lines, nothing cut."""
    from rich.console import Group

    where = screen()
    values = {name: _table_value(item, name, zone, where) for name in item}
    _print_plain(Group(_title(_titled(title, item, zone)), _record_grid(values)), where)


def _title(text: str) -> Any:
    """A title line of its own, folded at the screen's edge rather than at a narrow table's."""
    from rich.text import Text

    return Text(printable(text), style="italic", overflow="fold")


def _print_plain(renderable: Any, where: Screen) -> None:
    """Print to the terminal as is; elsewhere without the padding Rich adds to the end of lines."""
    out = console(where)
    if where.terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    STDOUT.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
