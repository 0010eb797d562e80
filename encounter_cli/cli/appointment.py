"""`encounter appointment ...`: book, list, show and cancel appointments.

Times without an offset are read in the clinic's time zone.

    encounter appointment book --patient 1 --doctor 2 --start 2026-12-01T09:30 --duration 30
    encounter appointment list --date tomorrow --doctor 2
"""

from __future__ import annotations

from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.imports import add_import_command
from encounter_cli.cli.options import (
    DAY_HELP,
    START_HELP,
    WHEN_HELP,
    DoctorId,
    Limit,
    Offset,
    Output,
    OutputFormat,
    PatientId,
    RecordId,
    RecordOutput,
)
from encounter_cli.cli.schedule import slots
from encounter_cli.cli.state import state
from encounter_cli.domain import AppointmentStatus

app = typer.Typer(help="Book, list and cancel appointments.", no_args_is_help=True)


Reason = Annotated[str | None, typer.Option("--reason", help="Free text, at most 500 characters.")]
AllowPatientOverlap = Annotated[
    bool,
    typer.Option("--allow-patient-overlap", help="Book even if the patient has another appointment then."),
]


def _show(ctx: typer.Context, appointment, fmt: OutputFormat) -> None:
    output.show_record(appointment, output.APPOINTMENT, fmt, state(ctx).zone())


@app.command("book")
def book(
    ctx: typer.Context,
    patient_id: PatientId,
    doctor_id: DoctorId,
    start: Annotated[str, typer.Option("--start", metavar="WHEN", help=f"Start: {START_HELP}")],
    duration: Annotated[int, typer.Option("--duration", metavar="MIN", help="Length in minutes, 15-180.")],
    reason: Reason = None,
    allow_patient_overlap: AllowPatientOverlap = False,
    fmt: Output = OutputFormat.table,
) -> None:
    """Book an appointment in a free slot of an active doctor, inside the doctor's working hours.

    The patient must be free then too, unless --allow-patient-overlap.

    Example: encounter appointment book --patient 1 --doctor 2 --start 2026-12-01T09:30 --duration 30
    """
    from encounter_cli import schemas, services
    from encounter_cli.clinic_time import clinic_when

    zone = state(ctx).zone()
    values = {
        "patient_id": patient_id,
        "doctor_id": doctor_id,
        "start_time": clinic_when(start, zone),
        "duration_minutes": duration,
        "reason": reason,
    }
    data = schemas.parse(schemas.AppointmentCreate, values, zone=zone)
    hours = state(ctx).settings().hours
    appointment = (
        state(ctx)
        .database()
        .run(
            lambda session: services.book_appointment(
                session, data, zone=zone, default_hours=hours, allow_patient_overlap=allow_patient_overlap
            )
        )
    )
    output.saved(ctx, f"appointment {appointment.id} booked")
    _show(ctx, appointment, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", metavar="DAY", help=DAY_HELP)] = None,
    start_from: Annotated[str | None, typer.Option("--from", metavar="WHEN", help=WHEN_HELP)] = None,
    start_to: Annotated[str | None, typer.Option("--to", metavar="WHEN", help=WHEN_HELP)] = None,
    doctor_id: DoctorId = None,
    patient_id: PatientId = None,
    status: Annotated[AppointmentStatus | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Limit = None,
    offset: Offset = 0,
    fmt: RecordOutput = OutputFormat.table,
) -> None:
    """List appointments in start order. Without filters: booked ones from the start of today on.

    Any filter replaces that default; filters combine. --to is exclusive.

    Example: encounter appointment list --date 2026-12-01 --doctor 2 -o csv
    """
    from encounter_cli import services
    from encounter_cli.clinic_time import clinic_day, clinic_when

    zone = state(ctx).zone()
    on = clinic_day(day, zone) if day else None
    where = services.appointment_filter(
        zone,
        day=on,
        start_from=clinic_when(start_from, zone, "from", date_only=True) if start_from else None,
        start_before=clinic_when(start_to, zone, "to", date_only=True) if start_to else None,
        doctor_id=doctor_id,
        patient_id=patient_id,
        status=status,
    )
    with state(ctx).database().session() as session:
        listing = services.list_appointments(session, where, output.page_size(fmt, limit), offset)
        title = f"Appointments on {on.isoformat()}" if on else None
        output.show_listing(listing, output.APPOINTMENT, fmt, zone, limit, title)


@app.command("show")
def show(ctx: typer.Context, appointment_id: RecordId, fmt: RecordOutput = OutputFormat.table) -> None:
    """Show one appointment.

    Example: encounter appointment show 7 -o json
    """
    from encounter_cli import services

    database = state(ctx).database()
    appointment = database.run(lambda session: services.get_appointment(session, appointment_id), write=False)
    _show(ctx, appointment, fmt)


@app.command("cancel")
def cancel(
    ctx: typer.Context, appointment_id: RecordId, reason: Reason = None, fmt: Output = OutputFormat.table
) -> None:
    """Cancel a future booked appointment; its slot becomes free.

    Example: encounter appointment cancel 7 --reason "patient called in sick"
    """
    from encounter_cli import schemas, services

    cancellation = schemas.parse(schemas.Cancellation, {"reason": reason})
    appointment = (
        state(ctx)
        .database()
        .run(lambda session: services.cancel_appointment(session, appointment_id, cancellation.reason))
    )
    output.saved(ctx, f"appointment {appointment_id} cancelled")
    _show(ctx, appointment, fmt)


@app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    appointment_id: RecordId,
    start: Annotated[str, typer.Option("--start", metavar="WHEN", help=f"New start: {START_HELP}")],
    duration: Annotated[
        int | None, typer.Option("--duration", metavar="MIN", help="New length in minutes (default: the same).")
    ] = None,
    doctor_id: DoctorId = None,
    allow_patient_overlap: AllowPatientOverlap = False,
    fmt: Output = OutputFormat.table,
) -> None:
    """Move a future booked appointment in one step, keeping its id; every booking rule is checked again.

    Its old slot stays held until the move succeeds.

    Example: encounter appointment reschedule 7 --start 2026-12-02T10:00 --doctor 4
    """
    from encounter_cli import schemas, services
    from encounter_cli.clinic_time import clinic_when

    zone, hours = state(ctx).zone(), state(ctx).settings().hours
    values = {"start_time": clinic_when(start, zone), "duration_minutes": duration, "doctor_id": doctor_id}
    change = schemas.parse(schemas.Reschedule, values, zone=zone)
    appointment = (
        state(ctx)
        .database()
        .run(
            lambda session: services.reschedule_appointment(
                session,
                appointment_id,
                change,
                zone=zone,
                default_hours=hours,
                allow_patient_overlap=allow_patient_overlap,
            )
        )
    )
    output.saved(ctx, f"appointment {appointment_id} rescheduled")
    _show(ctx, appointment, fmt)


def _record_outcome(ctx: typer.Context, appointment_id: int, outcome: AppointmentStatus, fmt: OutputFormat) -> None:
    from encounter_cli import services

    appointment = state(ctx).database().run(lambda s: services.record_outcome(s, appointment_id, outcome))
    output.saved(ctx, f"appointment {appointment_id} is {outcome.value}")
    _show(ctx, appointment, fmt)


@app.command("complete")
def complete(ctx: typer.Context, appointment_id: RecordId, fmt: Output = OutputFormat.table) -> None:
    """Mark a booked appointment whose start has passed as completed.

    Example: encounter appointment complete 7
    """
    _record_outcome(ctx, appointment_id, AppointmentStatus.completed, fmt)


@app.command("no-show")
def no_show(ctx: typer.Context, appointment_id: RecordId, fmt: Output = OutputFormat.table) -> None:
    """Mark a booked appointment whose start has passed as a no-show (the patient did not come).

    Example: encounter appointment no-show 7
    """
    _record_outcome(ctx, appointment_id, AppointmentStatus.no_show, fmt)


app.command("slots")(slots)
add_import_command(app, "appointment", example="encounter appointment import week.csv --skip-invalid -o json")
