"""`encounter patient ...`: add, list, show and update patients.

encounter patient add --first-name Ada --last-name Lovelace --email ada@example.org
encounter patient list --search lovelace -o json
"""

from __future__ import annotations

from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.imports import add_import_command
from encounter_cli.cli.options import Limit, Offset, Output, OutputFormat, RecordId, RecordOutput
from encounter_cli.cli.state import state

app = typer.Typer(help="Manage patients.", no_args_is_help=True)

FIRST_NAME = typer.Option("--first-name", help="Given name, 1-100 characters.")
LAST_NAME = typer.Option("--last-name", help="Family name, 1-100 characters.")
EMAIL = typer.Option("--email", help="Email address, unique per patient.")
Phone = Annotated[str | None, typer.Option("--phone", help="7-20 digits, spaces or + - ( ); empty clears.")]
SEARCH_HELP = (
    'Each word part of the first name, last name or email, any order or case ("lovelace ada");'
    ' digits find a phone, ignoring punctuation ("555-123").'
)
BirthDate = Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD; empty clears.")]


def _show(ctx: typer.Context, patient, fmt: OutputFormat) -> None:
    output.show_record(patient, output.PATIENT, fmt, state(ctx).zone())


@app.command("add")
def add(
    ctx: typer.Context,
    first_name: Annotated[str, FIRST_NAME],
    last_name: Annotated[str, LAST_NAME],
    email: Annotated[str, EMAIL],
    phone: Phone = None,
    dob: BirthDate = None,
    fmt: Output = OutputFormat.table,
) -> None:
    """Add a patient.

    Example: encounter patient add --first-name Ada --last-name Lovelace --email ada@example.org --dob 1815-12-10
    """
    from encounter_cli import schemas, services

    data = schemas.parse(
        schemas.PatientCreate,
        {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone, "date_of_birth": dob},
        today=state(ctx).today(),
    )
    patient = state(ctx).database().run(lambda session: services.add_patient(session, data))
    output.saved(ctx, f"patient {patient.id} added")
    _show(ctx, patient, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option("--search", metavar="TEXT", help=SEARCH_HELP)] = None,
    limit: Limit = None,
    offset: Offset = 0,
    fmt: RecordOutput = OutputFormat.table,
) -> None:
    """List patients by id.

    Example: encounter patient list --search smith --limit 20
    """
    from encounter_cli import services

    zone = state(ctx).zone()
    with state(ctx).database().session() as session:
        listing = services.list_patients(session, search, output.page_size(fmt, limit), offset)
        output.show_listing(listing, output.PATIENT, fmt, zone, limit)


@app.command("show")
def show(ctx: typer.Context, patient_id: RecordId, fmt: RecordOutput = OutputFormat.table) -> None:
    """Show one patient.

    Example: encounter patient show 12 -o json
    """
    from encounter_cli import services

    patient = state(ctx).database().run(lambda session: services.get_patient(session, patient_id), write=False)
    _show(ctx, patient, fmt)


@app.command("update")
def update(
    ctx: typer.Context,
    patient_id: RecordId,
    first_name: Annotated[str | None, FIRST_NAME] = None,
    last_name: Annotated[str | None, LAST_NAME] = None,
    email: Annotated[str | None, EMAIL] = None,
    phone: Phone = None,
    dob: BirthDate = None,
    fmt: Output = OutputFormat.table,
) -> None:
    """Change the given fields of a patient.

    Example: encounter patient update 12 --phone "+1 555 0100"
    """
    from encounter_cli import schemas, services

    given = {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone, "date_of_birth": dob}
    changes = schemas.parse(
        schemas.PatientUpdate, {k: v for k, v in given.items() if v is not None}, today=state(ctx).today()
    )
    patient = state(ctx).database().run(lambda session: services.update_patient(session, patient_id, changes))
    output.saved(ctx, f"patient {patient_id} updated")
    _show(ctx, patient, fmt)


add_import_command(app, "patient", example="encounter patient import patients.csv --dry-run")
