"""The `import` command shared by patients, doctors and appointments (README: Batch import and export)."""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from encounter_cli.cli import output
from encounter_cli.cli.options import Output, OutputFormat
from encounter_cli.cli.output import printable
from encounter_cli.cli.state import state

if TYPE_CHECKING:
    from encounter_cli.services.imports import ImportReport, Rejection

SHOWN_REJECTIONS = 50  # on stderr; the machine formats list every one
ELLIPSIS = "\u2026"


class InputFormat(str, Enum):
    csv = "csv"
    json = "json"
    ndjson = "ndjson"


Source = Annotated[str, typer.Argument(metavar="FILE|-", help="File to import, or - for standard input.")]
Format = Annotated[
    InputFormat | None, typer.Option("--format", help="csv, json or ndjson (default: from the file extension).")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Validate every row; write nothing.")]
SkipInvalid = Annotated[bool, typer.Option("--skip-invalid", help="Write the good rows; report the bad ones.")]
AllowPatientOverlap = Annotated[
    bool,
    typer.Option("--allow-patient-overlap", help="Accept rows that book a patient who has another appointment then."),
]


def add_import_command(app: typer.Typer, entity: str, example: str) -> None:
    """Register `encounter ENTITY import`: the same options and report for every entity; appointments
    add --allow-patient-overlap, as `appointment book` has it."""

    def import_(
        ctx: typer.Context,
        source: Source,
        fmt: Format = None,
        dry_run: DryRun = False,
        skip_invalid: SkipInvalid = False,
        output_format: Output = OutputFormat.table,
    ) -> None:
        import_command(ctx, entity, source, fmt, dry_run, skip_invalid, output_format)

    def import_appointments(
        ctx: typer.Context,
        source: Source,
        fmt: Format = None,
        dry_run: DryRun = False,
        skip_invalid: SkipInvalid = False,
        allow_patient_overlap: AllowPatientOverlap = False,
        output_format: Output = OutputFormat.table,
    ) -> None:
        rules = {"default_hours": state(ctx).settings().hours, "allow_patient_overlap": allow_patient_overlap}
        import_command(ctx, entity, source, fmt, dry_run, skip_invalid, output_format, rules)

    command = import_appointments if entity == "appointment" else import_
    command.__doc__ = f"""Import {entity}s from CSV, JSON or NDJSON; all-or-nothing unless --skip-invalid.

    Example: {example}
    """
    app.command("import", cls=_command_listing_columns(entity))(command)


def _command_listing_columns(entity: str) -> type[TyperCommand]:
    class ImportCommand(TyperCommand):
        """Its help ends with the entity's columns, read from the importer only when that help is shown:
        the importer needs Pydantic and SQLAlchemy, which no other --help may import."""

        columns_listed = False

        def format_help(self, ctx: Any, formatter: Any) -> None:
            if not self.columns_listed:
                self.help, self.columns_listed = f"{self.help}\n\n{columns_help(entity)}", True
            super().format_help(ctx, formatter)

    return ImportCommand


def columns_help(entity: str) -> str:
    """The columns (CSV header names, JSON keys) an import of `entity` accepts, as the importer checks them."""
    from encounter_cli.services.imports import IMPORTERS

    columns = IMPORTERS[entity].columns()
    groups = {"required": columns.required, "optional": columns.optional, "accepted and ignored": columns.ignored}
    listed = "".join(f"\n  {name}: {', '.join(names)}" for name, names in groups.items() if names)
    return f"Columns (CSV header, JSON keys):{listed}"


def import_command(
    ctx: typer.Context,
    entity: str,
    source: str,
    fmt: InputFormat | None,
    dry_run: bool,
    skip_invalid: bool,
    output,
    rules: dict[str, Any] | None = None,
) -> None:
    """Run one import and report it; exit 3/4/5 when any row was rejected. `rules`: the importer's own options."""
    from encounter_cli import readers
    from encounter_cli.clinic_time import now_utc
    from encounter_cli.errors import EncounterError, RowsRejected
    from encounter_cli.services import imports

    database = state(ctx).database()
    importer = imports.IMPORTERS[entity](now_utc(), state(ctx).zone(), dry_run=dry_run, **(rules or {}))
    report = imports.ImportReport()
    with _opened(source) as stream, _progress(stream) as progress:
        input_format = fmt.value if fmt else readers.format_from_extension(source)
        if input_format is None:
            raise typer.BadParameter(
                f"cannot tell the format of {printable(source)}; give csv, json or ndjson",
                param_hint="--format",
            )
        try:
            records = readers.read_records(stream, input_format, importer.check_columns)
            imports.run_import(database, importer, records, report, skip_invalid=skip_invalid, progress=progress)
        except (KeyboardInterrupt, EncounterError) as error:
            if report.read or isinstance(error, KeyboardInterrupt):  # say how far it got, if it got anywhere
                _report(ctx, report, output, dry_run, skip_invalid, interrupted=True)
            raise
    _report(ctx, report, output, dry_run, skip_invalid, interrupted=False)
    worst = report.worst()
    if worst is not None:
        raise RowsRejected(worst, len(report.rejected), report.read)


@contextmanager
def _opened(source: str):
    if source == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = Path(source).open("rb")  # noqa: SIM115 - closed by the with-block below
    except OSError as exc:  # missing, a directory, no permission
        shown = printable(source)
        raise typer.BadParameter(f"{shown} is not a readable file ({exc.strerror})", param_hint="FILE") from None
    with stream:
        yield stream


@contextmanager
def _progress(stream: IO[bytes]) -> Iterator[Callable[[ImportReport], None]]:
    """A Rich progress display on stderr for people at a terminal; nothing for scripts or a dumb terminal.

    A regular file gets a bar of the bytes read so far, with percentage and time left; a pipe a spinner.
    """
    if not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        yield lambda report: None
        return
    from rich.console import Console
    from rich.progress import Progress

    size = input_size(stream)
    plain = bool(os.environ.get("NO_COLOR"))  # no-color.org: any non-empty value; no bold or dim either
    console = Console(stderr=True, color_system=None if plain else "auto")
    with Progress(*progress_columns(size), console=console, transient=True) as bar:
        task = bar.add_task("import", total=size, rows=0)

        def show(report: ImportReport) -> None:
            # The reader closes the file once it has read the last record: then it is all read.
            done = report.read if size is None else size if stream.closed else stream.tell()
            bar.update(task, completed=done, rows=report.read)

        yield show


def input_size(stream: IO[bytes]) -> int | None:
    """The size in bytes of a regular file (named, or stdin redirected from one); None for a pipe, a terminal,
    a device or an empty file, whose end cannot be told in advance."""
    try:
        info = os.fstat(stream.fileno())
        stream.tell()  # the bar follows the position in the file
    except (OSError, ValueError, io.UnsupportedOperation):  # no file descriptor (a test's stream), not seekable
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) and info.st_size else None


def progress_columns(size: int | None) -> tuple[Any, ...]:
    """A bar with percentage and time left when the size is known; else a spinner, rows read and time taken."""
    from rich.progress import (
        BarColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    rows = TextColumn("{task.fields[rows]:,} rows read")
    if size is None:
        return SpinnerColumn(), rows, TimeElapsedColumn()
    return rows, BarColumn(), TaskProgressColumn(), TimeRemainingColumn()


def _report(
    ctx: typer.Context, report: ImportReport, output_format, dry_run: bool, skip_invalid: bool, interrupted: bool
) -> None:
    """The summary on stderr; the report on stdout in machine formats (json, ndjson, csv), even when stopped early."""
    _summarise(report, dry_run, skip_invalid, interrupted)
    if report.written:
        output.saved(ctx, f"{report.written:,} row(s) written")
    body = {"read": report.read, "written": report.written, "rejected": [asdict(r) for r in report.rejected]}
    output.show_import_report({**body, "valid": report.valid, "dry_run": dry_run}, output_format)


def _summarise(report: ImportReport, dry_run: bool, skip_invalid: bool, interrupted: bool) -> None:
    """People read counts with thousands separators (`20,000`); line numbers stay as editors show them."""
    for rejection in report.rejected[:SHOWN_REJECTIONS]:
        _say(f"line {rejection.line}: {_naming_field(rejection)}")
    more = len(report.rejected) - SHOWN_REJECTIONS
    if more > 0:
        ellipsis = ELLIPSIS if _can_show(ELLIPSIS) else "..."
        _say(f"{ellipsis} and {more:,} more (-o json lists all)")
    written = "nothing written (dry run)" if dry_run else f"written {report.written:,}"
    _say(f"read {report.read:,}, {written}, rejected {len(report.rejected):,}")
    if interrupted and skip_invalid and not dry_run:
        through = report.committed_through_line
        done = f"batches through line {through} are committed" if through else "no batch was committed"
        _say(f"stopped early: {done}; later rows were not written")
    elif interrupted:
        _say("stopped early: nothing was written")
    elif report.rejected and not skip_invalid and not dry_run:
        _say("nothing was written: fix the rejected rows, or use --skip-invalid to write the good ones")


def _naming_field(rejection: Rejection) -> str:
    """`field: rule`: a rule's message names its field first (`email: "bob@" is not ...`), except those that
    name a record (`doctor 2 is already booked ...`, `patient 9 does not exist`): the field goes in front."""
    message, field = rejection.message, rejection.field
    return message if message.startswith((f"{field}:", f"{field} ")) else f"{field}: {message}"


def _say(text: str) -> None:
    """One line on stderr, in characters its encoding has (`\\u00eb` on an ASCII terminal), not an error."""
    output.note(text if _can_show(text) else text.encode("ascii", "backslashreplace").decode("ascii"))


def _can_show(text: str) -> bool:
    try:
        text.encode(getattr(sys.stderr, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
