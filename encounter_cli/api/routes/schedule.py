"""/slots and /schedule: free slots to offer, and one clinic day per doctor; the data of the command line's
`appointment slots -o json` and `schedule -o json`. Times in queries carry their offset (RFC 3339)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from encounter_cli import export
from encounter_cli.api import responses
from encounter_cli.api.deps import CallerDep
from encounter_cli.clinic_time import calendar_day, now_utc, parse_instant
from encounter_cli.domain import MAX_ID
from encounter_cli.services import rules, schedule

router = APIRouter(tags=["schedule"])
DoctorFilter = Query(ge=1, le=MAX_ID, description="Doctor id.")
DoctorIdItem = Annotated[int, Field(ge=1, le=MAX_ID)]
Instant = "RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00."
Specialization = Query(description="Part of a specialization, any case: its active doctors.")
Day = Query(alias="date", description="A clinic-local day, YYYY-MM-DD (also today, tomorrow).")


class FreeSlot(BaseModel):
    model_config = responses.example(
        doctor_id=3, doctor_name="Gregory House", start_time="2026-12-01T09:30:00+01:00",
        end_time="2026-12-01T10:00:00+01:00",
    )  # fmt: skip
    doctor_id: int
    doctor_name: str
    start_time: datetime
    end_time: datetime


class Span(BaseModel):
    start: datetime
    end: datetime


class TimeOff(BaseModel):
    id: int
    start: datetime
    end: datetime
    reason: str | None


class DayAppointment(BaseModel):
    """An appointment of the day that is not cancelled: booked, completed or no_show."""

    id: int
    patient_id: int
    patient_name: str
    start_time: datetime
    end_time: datetime
    status: str


class DoctorDay(BaseModel):
    id: int
    full_name: str
    specialization: str
    hours: list[Span]
    time_off: list[TimeOff]
    appointments: list[DayAppointment]
    free: list[Span]


class DaySchedule(BaseModel):
    model_config = responses.example(
        date="2026-12-01", zone="Europe/Berlin", step_minutes=15,
        doctors=[{
            "id": 3, "full_name": "Gregory House", "specialization": "Diagnostics",
            "hours": [{"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T12:30:00+01:00"}],
            "time_off": [],
            "appointments": [{"id": 7, "patient_id": 12, "patient_name": "Ada Lovelace", "status": "booked",
                              "start_time": "2026-12-01T09:30:00+01:00", "end_time": "2026-12-01T10:00:00+01:00"}],
            "free": [{"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T09:30:00+01:00"},
                     {"start": "2026-12-01T10:00:00+01:00", "end": "2026-12-01T12:30:00+01:00"}],
        }],
    )  # fmt: skip
    date: date
    zone: str
    step_minutes: int
    doctors: list[DoctorDay]


@router.get("/slots", response_model=list[FreeSlot], responses=responses.documented(404, 409))
async def free_slots(
    caller: CallerDep,
    duration: Annotated[int, Query(description="Length in minutes, 15-180.")],
    doctor_id: Annotated[int | None, DoctorFilter] = None,
    specialization: Annotated[str | None, Specialization] = None,
    day: Annotated[str | None, Day] = None,
    start_from: Annotated[str | None, Query(alias="from", description=Instant)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=f"{Instant} Exclusive.")] = None,
    step: Annotated[int, Query(description="Minutes between starts, 5-180.")] = schedule.DEFAULT_STEP,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
) -> Response:
    """Free slots of one doctor (`doctor_id`) or of the active doctors of a `specialization`, in time order,
    at most `limit`: over `date`, or `from`-`to` (at most 31 days), by default today and the next six days.
    400 for a doctor without working hours, 404 for an unknown doctor or a specialization nobody active has,
    409 for an inactive doctor."""
    zone, now = caller.zone, now_utc()
    if day is not None and (start_from is not None or start_to is not None):
        raise rules.one_of("date", "from/to")
    start, end = schedule.slot_range(
        zone,
        now=now,
        day=calendar_day(day, zone) if day is not None else None,
        start_from=parse_instant(start_from, zone, "from") if start_from is not None else None,
        start_before=parse_instant(start_to, zone, "to") if start_to is not None else None,
    )
    found = await caller.run(
        lambda session: schedule.free_slots(
            session, doctor_id=doctor_id, specialization=specialization, duration=duration, start=start, end=end,
            step=step, limit=limit, now=now, zone=zone, default_hours=caller.hours,
        ),
        write=False,
    )  # fmt: skip
    return responses.facts([export.machine_values(slot.record(), zone) for slot in found])


@router.get("/schedule", response_model=DaySchedule, responses=responses.documented(404))
async def day_schedule(
    caller: CallerDep,
    day: Annotated[str | None, Day] = None,
    doctor_id: Annotated[list[DoctorIdItem] | None, Query(description="Doctor id; repeat it for more.")] = None,
    specialization: Annotated[str | None, Specialization] = None,
) -> Response:
    """One clinic day (default today) per doctor: working hours, time off, appointments that are not
    cancelled (with the patient's name) and free working time. Doctors: those of `doctor_id` (repeat it
    for more), else the active ones of `specialization`, else every active doctor working that day and
    every doctor with an appointment that day."""
    zone = caller.zone
    on = calendar_day(day, zone) if day is not None else caller.clinic.today()
    found = await caller.run(
        lambda session: schedule.day_schedule(
            session, on, zone, doctor_ids=doctor_id or (), specialization=specialization,
            default_hours=caller.hours,
        ),
        write=False,
    )  # fmt: skip
    return responses.facts(found.data())
