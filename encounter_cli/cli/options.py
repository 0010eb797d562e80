"""Option definitions shared by every command, so flags read the same everywhere."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from encounter_cli.domain import DAY_FORMS, DAY_TIME_EXAMPLES, MAX_ID, MAX_ROWS

OUTPUT_META_KEY = "encounter.output"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    csv_safe = "csv-safe"  # csv for spreadsheets: no cell can start a formula
    fhir = "fhir"  # FHIR R4 resources as NDJSON: only list and show of patients, doctors, appointments (RecordOutput)

    @property
    def is_csv(self) -> bool:
        return self in (OutputFormat.csv, OutputFormat.csv_safe)


def _remember_output(ctx: typer.Context, value: str) -> str:
    # The error reporter needs the format too. Typer converts the returned
    # plain string to the enum itself (it would turn an enum member into None).
    ctx.meta[OUTPUT_META_KEY] = OutputFormat(value)
    return ctx.meta[OUTPUT_META_KEY].value


def _no_fhir(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """`-o fhir` is for list and show of records (RecordOutput): typed elsewhere it is a usage error (exit 2);
    from ENCOUNTER_OUTPUT (set for exports) it leaves the command its table, as `schedule day` does with csv."""
    if value == OutputFormat.fhir.value:
        source = ctx.get_parameter_source(param.name or "")
        if source is None or source.name != "ENVIRONMENT":
            raise typer.BadParameter(f"fhir is only for list and show of patients, doctors and appointments; {HERE}")
        value = OutputFormat.table.value
    return _remember_output(ctx, value)


HERE = "this command prints table, json, ndjson, csv or csv-safe"
FORMATS = "table, json, ndjson, csv, or csv-safe (csv for spreadsheets: = + - @ cells get a ')"
Output = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        envvar="ENCOUNTER_OUTPUT",
        callback=_no_fhir,
        metavar="[table|json|ndjson|csv|csv-safe]",
        help=f"Output format: {FORMATS}.",
    ),
]
# list and show of patients, doctors and appointments: FHIR R4 too (encounter_cli.fhir).
RecordOutput = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        envvar="ENCOUNTER_OUTPUT",
        callback=_remember_output,
        help=f"Output format: {FORMATS}, or fhir (FHIR R4 resources, one per line).",
    ),
]
Limit = Annotated[int | None, typer.Option("--limit", min=1, max=MAX_ROWS, help="Return at most N rows.")]
Offset = Annotated[int, typer.Option("--offset", min=0, max=MAX_ROWS, help="Skip the first N rows.")]
RecordId = Annotated[int, typer.Argument(help="Record id.", show_default=False, min=1, max=MAX_ID)]
# Required where a command gives no default (book), a filter where it defaults to None (list).
PatientId = Annotated[int | None, typer.Option("--patient", metavar="ID", min=1, max=MAX_ID, help="Patient id.")]
DoctorId = Annotated[int | None, typer.Option("--doctor", metavar="ID", min=1, max=MAX_ID, help="Doctor id.")]
# The date forms, in every option that takes a day or a time (read by clinic_time.clinic_day and clinic_when).
DAY_HELP = f"A clinic day: {DAY_FORMS}."
WHEN_HELP = (
    f"A clinic day, meaning its midnight ({DAY_FORMS}), or a time: ISO 8601 like 2026-12-01T09:30"
    f" (clinic time unless an offset is given), a day with a time ({DAY_TIME_EXAMPLES}), or now."
)
START_HELP = (
    f"ISO 8601 like 2026-12-01T09:30 (clinic time unless an offset is given), or a clinic day with a time:"
    f" {DAY_TIME_EXAMPLES}."
)
