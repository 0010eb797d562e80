"""`encounter doctor ...`: add, list, show, activate and deactivate doctors.

encounter doctor add --full-name "Gregory House" --specialization Diagnostics
encounter doctor deactivate 3
"""

from __future__ import annotations

from typing import Annotated

import typer

from encounter_cli.cli import availability, output
from encounter_cli.cli.errors import CommandGroup
from encounter_cli.cli.imports import add_import_command
from encounter_cli.cli.options import Limit, Offset, Output, OutputFormat, RecordId, RecordOutput
from encounter_cli.cli.state import state

app = typer.Typer(help="Manage doctors.", no_args_is_help=True)


def _show(ctx: typer.Context, doctor, fmt: OutputFormat) -> None:
    output.show_record(doctor, output.DOCTOR, fmt, state(ctx).zone())


@app.command("add")
def add(
    ctx: typer.Context,
    full_name: Annotated[str, typer.Option("--full-name", help="Full name, 1-100 characters.")],
    specialization: Annotated[str, typer.Option("--specialization", help="Specialization, 1-100 characters.")],
    inactive: Annotated[bool, typer.Option("--inactive", help="Add the doctor as inactive.")] = False,
    fmt: Output = OutputFormat.table,
) -> None:
    """Add a doctor (active unless --inactive).

    Example: encounter doctor add --full-name "Gregory House" --specialization Diagnostics
    """
    from encounter_cli import schemas, services

    data = schemas.parse(
        schemas.DoctorCreate, {"full_name": full_name, "specialization": specialization, "is_active": not inactive}
    )
    doctor = state(ctx).database().run(lambda session: services.add_doctor(session, data))
    output.saved(ctx, f"doctor {doctor.id} added")
    _show(ctx, doctor, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only active doctors.")] = False,
    inactive: Annotated[bool, typer.Option("--inactive", help="Only inactive doctors.")] = False,
    specialization: Annotated[str | None, typer.Option("--specialization", help="Part of the specialization.")] = None,
    search: Annotated[
        str | None, typer.Option("--search", metavar="TEXT", help="Name: each word part of it, any order or case.")
    ] = None,
    limit: Limit = None,
    offset: Offset = 0,
    fmt: RecordOutput = OutputFormat.table,
) -> None:
    """List doctors by id.

    Example: encounter doctor list --active --specialization cardio --search "house"
    """
    from encounter_cli import services

    if active and inactive:  # together they would silently match nobody
        raise typer.BadParameter("they exclude each other; give one or neither", param_hint=["--active", "--inactive"])
    wanted = True if active else False if inactive else None
    zone = state(ctx).zone()
    with state(ctx).database().session() as session:
        listing = services.list_doctors(
            session, wanted, specialization, output.page_size(fmt, limit), offset, search=search
        )
        output.show_listing(listing, output.DOCTOR, fmt, zone, limit)


@app.command("show")
def show(ctx: typer.Context, doctor_id: RecordId, fmt: RecordOutput = OutputFormat.table) -> None:
    """Show one doctor.

    Example: encounter doctor show 3
    """
    from encounter_cli import services

    doctor = state(ctx).database().run(lambda session: services.get_doctor(session, doctor_id), write=False)
    _show(ctx, doctor, fmt)


def _set_active(ctx: typer.Context, doctor_id: int, active: bool, fmt: OutputFormat) -> None:
    from encounter_cli import services

    result = state(ctx).database().run(lambda session: services.set_doctor_active(session, doctor_id, active))
    word = "active" if active else "inactive"
    output.saved(ctx, f"doctor {doctor_id} is {word}")
    output.note(f"doctor {doctor_id} is {word}; {result.booked_remaining} future booked appointment(s) remain")
    _show(ctx, result.doctor, fmt)


@app.command("deactivate")
def deactivate(ctx: typer.Context, doctor_id: RecordId, fmt: Output = OutputFormat.table) -> None:
    """Stop new bookings for a doctor; existing appointments are kept (and counted).

    Example: encounter doctor deactivate 3
    """
    _set_active(ctx, doctor_id, False, fmt)


@app.command("activate")
def activate(ctx: typer.Context, doctor_id: RecordId, fmt: Output = OutputFormat.table) -> None:
    """Allow bookings for a doctor again.

    Example: encounter doctor activate 3
    """
    _set_active(ctx, doctor_id, True, fmt)


app.command("hours")(availability.hours)
app.add_typer(availability.time_off_app, name="time-off", cls=CommandGroup)
add_import_command(app, "doctor", example="encounter doctor import doctors.ndjson")
