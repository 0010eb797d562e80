"""The `import` command shared by patients, doctors and appointments (README: Batch import and export)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import Output, OutputFormat
from encounter_cli.cli.output import printable
from encounter_cli.cli.state import state

if TYPE_CHECKING:
    from encounter_cli.services.imports import ImportReport


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
    app.command("import")(command)


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
    with _opened(source) as stream, _progress() as progress:
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
def _progress():
    """A Rich progress line on stderr for people at a terminal; nothing for scripts."""
    if not sys.stderr.isatty():
        yield lambda report: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,} rows read"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None)
        yield lambda report: bar.update(task, completed=report.read)


def _report(
    ctx: typer.Context, report: ImportReport, output_format, dry_run: bool, skip_invalid: bool, interrupted: bool
) -> None:
    """The summary on stderr; the report on stdout in machine formats (json, ndjson, csv), even when stopped early."""
    _summarise(report, dry_run, skip_invalid, interrupted)
    if report.written:
        output.saved(ctx, f"{report.written} row(s) written")
    body = {"read": report.read, "written": report.written, "rejected": [asdict(r) for r in report.rejected]}
    output.show_import_report({**body, "valid": report.valid, "dry_run": dry_run}, output_format)


def _summarise(report: ImportReport, dry_run: bool, skip_invalid: bool, interrupted: bool) -> None:
    for rejection in report.rejected:
        output.note(f"line {rejection.line}: {rejection.message}")
    written = "nothing written (dry run)" if dry_run else f"written {report.written}"
    output.note(f"read {report.read}, {written}, rejected {len(report.rejected)}")
    if interrupted and skip_invalid and not dry_run:
        through = report.committed_through_line
        done = f"batches through line {through} are committed" if through else "no batch was committed"
        output.note(f"stopped early: {done}; later rows were not written")
    elif interrupted:
        output.note("stopped early: nothing was written")
    elif report.rejected and not skip_invalid and not dry_run:
        output.note("nothing was written: fix the rows above, or use --skip-invalid to write the good ones")
