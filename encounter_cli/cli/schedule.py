"""`encounter appointment slots` and `encounter schedule`: free slots to offer, and a clinic day at a glance.

encounter appointment slots --specialization cardio --duration 30 --date tomorrow
encounter schedule --date 2026-12-01 --doctor 2 --doctor 5
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import DAY_HELP, OUTPUT_META_KEY, WHEN_HELP, DoctorId, Limit, Output, OutputFormat
from encounter_cli.cli.state import state
from encounter_cli.domain import MAX_ID

SLOT_COLUMNS = (output.SPAN_COLUMN, "doctor_id", "doctor_name")
Day = Annotated[str | None, typer.Option("--date", metavar="DAY", help=DAY_HELP)]
Specialization = Annotated[
    str | None, typer.Option("--specialization", metavar="TEXT", help="Part of a specialization: its active doctors.")
]


def slots(
    ctx: typer.Context,
    duration: Annotated[int, typer.Option("--duration", metavar="MIN", help="Length in minutes, 15-180.")],
    doctor_id: DoctorId = None,
    specialization: Specialization = None,
    day: Day = None,
    start_from: Annotated[str | None, typer.Option("--from", metavar="WHEN", help=WHEN_HELP)] = None,
    start_to: Annotated[str | None, typer.Option("--to", metavar="WHEN", help=f"{WHEN_HELP} Exclusive.")] = None,
    step: Annotated[int, typer.Option("--step", metavar="MIN", help="Minutes between starts, 5-180.")] = 15,
    limit: Limit = None,
    fmt: Output = OutputFormat.table,
) -> None:
    """Free slots of a doctor, or of every active doctor of a specialization, in time order.

    A slot lies inside the doctor's hours, outside their time off and appointments, and in the future.

    Starts are --step minutes apart from each working interval's start. Range: --date, or --from/--to (at most 31 days).

    Without a range: the rest of today and the next six days.

    Example: encounter appointment slots --doctor 2 --duration 30 --date tomorrow
    """
    from encounter_cli.clinic_time import clinic_day, clinic_when, now_utc
    from encounter_cli.services import schedule

    if (doctor_id is None) == (specialization is None):
        raise typer.BadParameter("give one of them", param_hint=["--doctor", "--specialization"])
    if day is not None and (start_from is not None or start_to is not None):
        raise typer.BadParameter("--date is one day, --from/--to a range: give one or the other", param_hint="--date")
    app_state = state(ctx)
    zone, now, default_hours = app_state.zone(), now_utc(), app_state.settings().hours
    start, end = schedule.slot_range(
        zone,
        now=now,
        day=clinic_day(day, zone) if day is not None else None,
        start_from=clinic_when(start_from, zone, "from", date_only=True) if start_from is not None else None,
        start_before=clinic_when(start_to, zone, "to", date_only=True) if start_to is not None else None,
    )
    found = app_state.database().run(
        lambda session: schedule.free_slots(
            session, doctor_id=doctor_id, specialization=specialization, duration=duration, start=start, end=end,
            step=step, limit=output.page_size(fmt, limit), now=now, zone=zone, default_hours=default_hours,
        ),
        write=False,
    )  # fmt: skip
    page = (limit or output.DEFAULT_TABLE_ROWS) if fmt == OutputFormat.table else len(found)  # the table's page
    title = f"Free {duration}-minute slots"
    records = (slot.record() for slot in found[:page])
    output.print_many(records, fmt, zone, fields=schedule.SLOT_FIELDS, columns=SLOT_COLUMNS, title=title)
    if len(found) > page:
        output.note("more free slots not shown; use --limit, or a later --from")


class DayFormat(str, Enum):
    table = "table"
    json = "json"


def _day_format(ctx: typer.Context, value: str) -> str:
    """ENCOUNTER_OUTPUT chooses json here too; a format this command lacks (csv) leaves the table."""
    source = ctx.get_parameter_source("fmt")
    if source is not None and source.name == "DEFAULT" and os.environ.get("ENCOUNTER_OUTPUT") == DayFormat.json:
        value = DayFormat.json.value
    ctx.meta[OUTPUT_META_KEY] = OutputFormat(value)  # errors as JSON too (cli.errors)
    return DayFormat(value).value


DayOutput = Annotated[
    DayFormat, typer.Option("--output", "-o", callback=_day_format, help="Output format: table or json.")
]
DoctorIds = Annotated[
    list[int] | None,
    typer.Option("--doctor", metavar="ID", min=1, max=MAX_ID, help="Show this doctor (repeat for more)."),
]


def day_schedule(
    ctx: typer.Context,
    day: Day = None,
    doctor_ids: DoctorIds = None,
    specialization: Specialization = None,
    fmt: DayOutput = DayFormat.table,
) -> None:
    """One clinic day: a column per doctor, a row per 15 minutes of their working hours.

    Cells show the patient's name (then a mark while the appointment lasts), time off, and free working time.

    Without --doctor or --specialization: the active doctors working that day, and any with an appointment.

    Example: encounter schedule --date tomorrow --specialization cardio
    """
    import json

    from encounter_cli.clinic_time import clinic_day
    from encounter_cli.services import schedule

    if doctor_ids and specialization is not None:
        raise typer.BadParameter("give one or the other", param_hint=["--doctor", "--specialization"])
    app_state = state(ctx)
    zone, default_hours = app_state.zone(), app_state.settings().hours
    date = clinic_day(day or "today", zone)
    found = app_state.database().run(
        lambda session: schedule.day_schedule(
            session, date, zone, doctor_ids=doctor_ids or (), specialization=specialization,
            default_hours=default_hours,
        ),
        write=False,
    )  # fmt: skip
    if fmt == DayFormat.json:
        output.STDOUT.write(json.dumps(found.data(), ensure_ascii=False, indent=2) + "\n")
        return
    from encounter_cli.cli import day_grid

    where = output.screen()
    marks = day_grid.TERMINAL if where.terminal else day_grid.PLAIN
    if not day_grid.print_schedule(found, output.console(where), marks):
        output.note(f"nothing scheduled on {date.isoformat()} ({date.strftime('%A')}): no hours, no appointments")
