"""A doctor's weekly working hours: the `--set` grammar, and where a clinic day's hours fall in UTC.

Hours are clinic-local wall time ("mon-fri 09:00-12:30,13:30-17:00"): a 09:00 start is 09:00 on
both sides of a daylight-saving change. Free of SQLAlchemy and Pydantic, like `clinic_time`.

`WeeklyHours` holds, for each ISO weekday (index 0 is Monday), that day's intervals as
(start, end) minutes after local midnight, sorted and apart; an end may be 24:00 (1440), the next
midnight. An empty week means "no hours".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from encounter_cli.clinic_time import UTC
from encounter_cli.errors import InvalidInput

Interval = tuple[int, int]  # minutes after local midnight, [start, end)
WeeklyHours = tuple[tuple[Interval, ...], ...]  # seven days, Monday first

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NO_HOURS: WeeklyHours = ((),) * 7
MIDNIGHT = 24 * 60  # an interval's end may be 24:00: the day's last minutes are bookable too
HOURS_HINT = 'e.g. --set "mon-fri 09:00-12:30,13:30-17:00" --set "sat 09:00-12:00"'
DAYS_PART = re.compile(r"[a-z]+(?:-[a-z]+)?(?:,[a-z]+(?:-[a-z]+)?)*")
CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_hours(texts: Iterable[str], field: str = "hours") -> WeeklyHours:
    """Read `--set` values (each may hold several groups split by ";") into a week. A day given twice is
    refused, as is a day whose intervals overlap; intervals that touch are one."""
    week: list[list[Interval] | None] = [None] * 7
    for text in texts:
        for group in text.split(";"):
            if not group.strip():
                continue
            days, intervals = _group(group, field)
            for day in days:
                if week[day] is not None:
                    raise InvalidInput(field, text, f"gives {DAY_NAMES[day]} twice", hint=HOURS_HINT)
                week[day] = intervals
    return tuple(tuple(day or ()) for day in week)


def _group(text: str, field: str) -> tuple[list[int], list[Interval]]:
    """One "DAYS INTERVALS" group."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or not DAYS_PART.fullmatch(parts[0]):
        raise InvalidInput(field, text, "is not DAYS HH:MM-HH:MM[,HH:MM-HH:MM...]", hint=HOURS_HINT)
    days = [day for item in parts[0].split(",") for day in _days(item, text, field)]
    intervals = sorted(_interval(item, text, field) for item in parts[1].split(","))
    joined: list[Interval] = []
    for start, end in intervals:
        if joined and start < joined[-1][1]:
            raise InvalidInput(field, text, "has intervals that overlap", hint=HOURS_HINT)
        if joined and start == joined[-1][1]:  # 09:00-12:00,12:00-13:00 is one stretch of work
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return days, joined


def _days(item: str, text: str, field: str) -> list[int]:
    """ "mon", "monday" or a range "mon-fri" (it may wrap: "sat-mon")."""
    first, _, last = item.partition("-")
    start, end = _day(first, text, field), _day(last or first, text, field)
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def _day(name: str, text: str, field: str) -> int:
    for names in (DAY_NAMES, FULL_DAY_NAMES):
        if name in names:
            return names.index(name)
    raise InvalidInput(field, text, f'names no weekday "{name}" (use mon, tue, ... sun)', hint=HOURS_HINT)


def _interval(item: str, text: str, field: str) -> Interval:
    first, _, last = item.partition("-")
    start, end = _clock(first, text, field), _clock(last, text, field, end=True)
    if end <= start:
        raise InvalidInput(field, text, f"has an interval that ends before it starts ({item})", hint=HOURS_HINT)
    return start, end


def _clock(value: str, text: str, field: str, end: bool = False) -> int:
    """Minutes after midnight of "HH:MM" (or "H:MM"); an interval's end may also be 24:00."""
    match = CLOCK.fullmatch(value)
    minutes = int(match[1]) * 60 + int(match[2]) if match and int(match[2]) < 60 else None
    if minutes is None or minutes > (MIDNIGHT if end else MIDNIGHT - 1):
        raise InvalidInput(field, text, f'has "{value}", not a time from 00:00 to 24:00', hint=HOURS_HINT)
    return minutes


def format_hours(week: WeeklyHours) -> list[str]:
    """The week in the `--set` grammar, days with the same intervals together: ["mon-fri 09:00-17:00"]."""
    groups: dict[tuple[Interval, ...], list[int]] = {}
    for day, intervals in enumerate(week):
        if intervals:
            groups.setdefault(intervals, []).append(day)
    return [f"{_day_list(days)} {','.join(map(format_interval, intervals))}" for intervals, days in groups.items()]


def hours_facts(week: WeeklyHours, source: str) -> dict[str, object]:
    """A week as `doctor hours -o json` and the API show it: the `--set` lines and each day's intervals."""
    days = {DAY_NAMES[day]: [format_interval(interval) for interval in week[day]] for day in range(7)}
    return {"source": source, "hours": format_hours(week), "days": days}


def format_interval(interval: Interval) -> str:
    return f"{clock_text(interval[0])}-{clock_text(interval[1])}"


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_list(days: list[int]) -> str:
    """[0, 1, 2, 4] -> "mon-wed,fri"."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(DAY_NAMES[run[0]] + (f"-{DAY_NAMES[run[-1]]}" if len(run) > 1 else "") for run in runs)


@lru_cache(maxsize=4096)
def day_intervals(week: WeeklyHours, day: date, zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    """The working intervals of one clinic day, as UTC [start, end) pairs.

    Wall time: 09:00 is 09:00 local whatever the offset. A boundary that does not exist (inside a
    spring-forward gap) falls the gap's length later; one that happens twice is the first.
    Memoized: each answer takes a few zone conversions, and an import's rows or a slot search ask
    for the same few weeks and days over and over.
    """
    return tuple((_utc(day, start, zone), _utc(day, end, zone)) for start, end in week[day.weekday()])


def _utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    days, minutes = divmod(minutes, MIDNIGHT)  # 24:00 is the next day's 00:00
    wall = datetime.combine(day + timedelta(days=days), time(minutes // 60, minutes % 60), tzinfo=zone)
    return wall.astimezone(UTC)  # fold=0: the earlier offset


def within_hours(week: WeeklyHours, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """Whether [start, end) lies inside one working interval of its start's clinic day (no hours: any time)."""
    if week == NO_HOURS:
        return True
    day = start.astimezone(zone).date()
    return any(first <= start and end <= last for first, last in day_intervals(week, day, zone))


def days_between(first: date, last: date) -> list[date]:
    """Every date from `first` to `last`, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
