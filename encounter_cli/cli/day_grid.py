"""The day schedule as Rich grids: a time column, a column per doctor, a row per step of the day.

Built to fit the console: names are shortened with an ellipsis, and doctors that do not fit side by
side go to further grids, each with the time column again. Stored text is printed as `Text`, never as
Rich markup, with control characters escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.table import Table
from rich.text import Text

from encounter_cli.cli.output import printable
from encounter_cli.clinic_time import day_bounds
from encounter_cli.domain import AppointmentStatus
from encounter_cli.services.schedule import DaySchedule, DoctorDay, Span

TIME_WIDTH = 5  # "09:30"
CELL_MIN, CELL_MAX = 12, 18  # a doctor's column, in cells
FRAME = TIME_WIDTH + 4  # the time column with its padding and both of its borders
PER_DOCTOR = 3  # padding and a border per doctor column


@dataclass(frozen=True)
class Marks:
    """What marks a cell: box-drawing characters on a terminal, plain ASCII in a pipe."""

    box: box.Box
    continued: str
    completed: str
    no_show: str
    ellipsis: str


TERMINAL = Marks(box.HEAVY_HEAD, "│", "✓ ", "✗ ", "…")
PLAIN = Marks(box.ASCII, '"', "+ ", "x ", "...")  # a ditto mark: "|" would read as a border
OFF, FREE = "off", "free"


def print_schedule(schedule: DaySchedule, console: Console, marks: Marks) -> bool:
    """Print the day's grids; False, printing nothing, when no doctor has hours or appointments that day."""
    rows = row_starts(schedule)
    if not rows:
        return False
    title = f"Schedule {schedule.day.isoformat()} {schedule.day.strftime('%A')} ({schedule.zone.key})"
    pages = pages_of(schedule.doctors, console.width)
    for number, (doctors, width) in enumerate(pages, start=1):
        if number > 1:
            console.print()
        shown = "" if len(pages) == 1 else f", {_range_of(pages, number)} of {len(schedule.doctors)}"
        console.print(Text(title + shown))
        console.print(grid(schedule, doctors, rows, width, marks))
    legend = f"{marks.continued} continued  {marks.completed}completed  {marks.no_show}no-show  {OFF}: time off"
    console.print(Text(f"{legend}  {FREE}: not booked"))
    return True


def pages_of(doctors: list[DoctorDay], width: int) -> list[tuple[list[DoctorDay], int]]:
    """Doctors split into grids that fit `width`, as evenly as can be, and the cell width of each grid's
    doctor columns."""
    fitting = max(1, (width - FRAME) // (CELL_MIN + PER_DOCTOR))
    per_page = ceil(len(doctors) / ceil(len(doctors) / fitting)) if doctors else 1  # 5 doctors: 3 + 2, not 4 + 1
    pages = []
    for first in range(0, len(doctors), per_page):
        page = doctors[first : first + per_page]
        cell = min(CELL_MAX, (width - FRAME) // len(page) - PER_DOCTOR)
        pages.append((page, max(cell, 1)))
    return pages


def _range_of(pages: list[tuple[list[DoctorDay], int]], number: int) -> str:
    first = sum(len(doctors) for doctors, _ in pages[: number - 1]) + 1
    last = first + len(pages[number - 1][0]) - 1
    return f"doctor {first}" if first == last else f"doctors {first}-{last}"


def row_starts(schedule: DaySchedule) -> list[datetime]:
    """A row per step over the shown doctors' working hours and the day's part of their appointments,
    starting on the step of the clinic's clock (09:00, 09:15, ...)."""
    first_of_day, after_day = _day_span(schedule)
    spans = [span for doctor in schedule.doctors for span in doctor.hours]
    spans += [(max(v.start, first_of_day), min(v.end, after_day)) for d in schedule.doctors for v in d.visits]
    if not spans:
        return []
    step = timedelta(minutes=schedule.step_minutes)
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    local = start.astimezone(schedule.zone)
    start -= timedelta(minutes=(local.hour * 60 + local.minute) % schedule.step_minutes)
    return [start + step * n for n in range(ceil((end - start) / step))]


def _day_span(schedule: DaySchedule) -> Span:
    return day_bounds(schedule.day, schedule.zone)


def grid(schedule: DaySchedule, doctors: list[DoctorDay], rows: list[datetime], width: int, marks: Marks) -> Table:
    table = Table(box=marks.box)
    table.add_column(Text("time"), width=TIME_WIDTH, no_wrap=True)
    for doctor in doctors:
        state = "" if doctor.is_active else " inactive"
        header = f"{fit(doctor.full_name, width, marks)}\n{fit(f'#{doctor.id}{state}', width, marks)}"
        table.add_column(Text(header), width=width, no_wrap=True, overflow="crop")
    step = timedelta(minutes=schedule.step_minutes)
    for start in rows:
        clock = start.astimezone(schedule.zone).strftime("%H:%M")
        cells = [cell(doctor, start, start + step, start == rows[0], width, marks) for doctor in doctors]
        table.add_row(Text(clock), *cells)
    return table


def cell(doctor: DoctorDay, start: datetime, end: datetime, first_row: bool, width: int, marks: Marks) -> Text:
    """What the doctor does in [start, end): an appointment (the patient's name on its first row, a mark
    below), time off, free working time, or nothing (outside hours)."""
    visits = [visit for visit in doctor.visits if visit.start < end and visit.end > start]
    beginning = [visit for visit in visits if visit.start >= start or first_row]
    if beginning:
        visit = beginning[-1]
        mark = {AppointmentStatus.completed.value: marks.completed, AppointmentStatus.no_show.value: marks.no_show}
        return Text(fit(mark.get(visit.status, "") + visit.patient_name, width, marks))
    if visits:
        return Text(marks.continued, style="dim")
    if any(off.start < end and off.end > start for off in doctor.time_off):
        return Text(OFF, style="yellow")
    if any(free_start < end and free_end > start for free_start, free_end in doctor.free):
        return Text(FREE, style="green")
    return Text("")


def fit(text: str, width: int, marks: Marks) -> str:
    """One line of at most `width` cells, control characters escaped, shortened with an ellipsis."""
    line = printable(text)
    if cell_len(line) <= width:
        return line
    return set_cell_size(line, max(width - cell_len(marks.ellipsis), 0)).rstrip() + marks.ellipsis
