"""`encounter doctor hours` and `encounter doctor time-off ...`: when a doctor can be booked.

Hours are a weekly pattern in clinic wall time; time off is a one-off stretch.

    encounter doctor hours 3 --set "mon-fri 09:00-12:30,13:30-17:00" --set "sat 09:00-12:00"
    encounter doctor time-off add 3 --from 2026-12-24 --to 2026-12-27 --reason holidays
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import WHEN_HELP, Limit, Offset, Output, OutputFormat, RecordId
from encounter_cli.cli.state import state

if TYPE_CHECKING:
    from encounter_cli.services import HoursReport

time_off_app = typer.Typer(
    help="Record, list and remove a doctor's time off.\n\n"
    "Example: encounter doctor time-off add 3 --from 2026-12-24 --to 2026-12-27",
    no_args_is_help=True,
)

TIME_OFF = output.Kind("DoctorTimeOff", ("id", "doctor_id", "start_time", "end_time", "reason"), label="Time off")
SET_HELP = 'Weekly hours, e.g. "mon-fri 09:00-12:30,13:30-17:00"; repeat for other days. Replaces the old ones.'


def hours(
    ctx: typer.Context,
    doctor_id: RecordId,
    groups: Annotated[list[str] | None, typer.Option("--set", metavar="HOURS", help=SET_HELP)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the doctor's own hours (the clinic's apply).")] = False,
    fmt: Output = OutputFormat.table,
) -> None:
    """Show or set a doctor's weekly working hours (clinic wall time). Bookings must fall inside them.

    Without --set or --clear, shows the hours in effect: the doctor's own, else the clinic's hours
    (the config's clinic.hours).
    Setting hours keeps existing bookings and says how many future ones now fall outside.

    Example: encounter doctor hours 3 --set "mon-fri 09:00-12:30,13:30-17:00" --set "sat 09:00-12:00"
    """
    from encounter_cli import services
    from encounter_cli.working_hours import parse_hours

    if groups and clear:
        raise typer.BadParameter("give one or the other", param_hint=["--set", "--clear"])
    settings, zone = state(ctx).settings(), state(ctx).zone()
    database = state(ctx).database()
    if not groups and not clear:
        report = database.run(lambda s: services.get_hours(s, doctor_id, settings.hours), write=False)
        _show_hours(report, fmt)
        return
    week = parse_hours(groups) if groups else None
    report = database.run(lambda s: services.set_hours(s, doctor_id, week, settings.hours, zone))
    output.saved(ctx, f"doctor {doctor_id}'s hours changed")
    output.note(f"doctor {doctor_id}: {report.outside} future booked appointment(s) fall outside these hours")
    _show_hours(report, fmt)


def _show_hours(report: HoursReport, fmt: OutputFormat) -> None:
    from encounter_cli.working_hours import format_hours

    lines = format_hours(report.week)
    source = {"doctor": "own hours", "clinic": "the clinic's hours", "none": "no hours: bookable at any time"}
    people = [f"doctor {report.doctor.id} ({report.doctor.full_name}): {source[report.source]}", *lines]
    output.show_facts(report.facts(), fmt, f"Doctor {report.doctor.id} hours", for_people=people)


@time_off_app.command("add")
def add(
    ctx: typer.Context,
    doctor_id: RecordId,
    start: Annotated[str, typer.Option("--from", metavar="WHEN", help=WHEN_HELP)],
    end: Annotated[str, typer.Option("--to", metavar="WHEN", help=f"Exclusive. {WHEN_HELP}")],
    reason: Annotated[str | None, typer.Option("--reason", help="Free text, at most 500 characters.")] = None,
    fmt: Output = OutputFormat.table,
) -> None:
    """Make a doctor unbookable from --from to --to. Bookings already there stay, and are listed to be moved.

    Example: encounter doctor time-off add 3 --from 2026-12-24 --to 2026-12-27 --reason holidays
    """
    from encounter_cli import schemas, services
    from encounter_cli.clinic_time import clinic_when, show

    zone = state(ctx).zone()
    values = {
        "start_time": clinic_when(start, zone, "from", date_only=True),
        "end_time": clinic_when(end, zone, "to", date_only=True),
        "reason": reason,
    }
    data = schemas.parse(schemas.TimeOffCreate, values, zone=zone)
    added = (
        state(ctx)
        .database()
        .run(lambda s: services.add_time_off(s, doctor_id, data.start_time, data.end_time, zone, data.reason))
    )
    output.saved(ctx, f"time off {added.time_off.id} added")
    for appointment in added.booked:
        output.note(f"appointment {appointment.id} at {show(appointment.start_time, zone)} is booked in this time off")
    if added.booked:
        output.note(
            f"{len(added.booked)} booked appointment(s) to move: encounter appointment reschedule ID --start WHEN"
        )
    output.show_record(added.time_off, TIME_OFF, fmt, zone)


@time_off_app.command("list")
def list_(
    ctx: typer.Context,
    doctor_id: RecordId,
    start_from: Annotated[str | None, typer.Option("--from", metavar="WHEN", help=WHEN_HELP)] = None,
    start_to: Annotated[str | None, typer.Option("--to", metavar="WHEN", help=f"Exclusive. {WHEN_HELP}")] = None,
    limit: Limit = None,
    offset: Offset = 0,
    fmt: Output = OutputFormat.table,
) -> None:
    """List a doctor's time off in start order: what reaches into --from..--to, else what has not ended yet.

    Example: encounter doctor time-off list 3 --from 2026-12-01 --to 2027-01-01
    """
    from encounter_cli import services
    from encounter_cli.clinic_time import clinic_when

    zone = state(ctx).zone()
    first = clinic_when(start_from, zone, "from", date_only=True) if start_from else None
    after = clinic_when(start_to, zone, "to", date_only=True) if start_to else None
    with state(ctx).database().session() as session:
        listing = services.list_time_off(
            session, doctor_id, first, after, zone, limit=output.page_size(fmt, limit), offset=offset
        )
        output.show_listing(listing, TIME_OFF, fmt, zone, limit)


@time_off_app.command("remove")
def remove(
    ctx: typer.Context,
    time_off_id: RecordId,
    fmt: Output = OutputFormat.table,
) -> None:
    """Remove one stretch of time off; the doctor can be booked then again. Prints what was removed.

    Example: encounter doctor time-off remove 4
    """
    from encounter_cli import services

    removed = state(ctx).database().run(lambda s: services.remove_time_off(s, time_off_id))
    output.saved(ctx, f"time off {time_off_id} removed")
    output.show_record(removed, TIME_OFF, fmt, state(ctx).zone())
