"""Reading and showing times in the clinic's zone; storage is always UTC.

A naive input time is wall-clock time in the clinic. Wall-clock times that
do not exist (spring-forward gap) or happen twice (fall-back overlap) are
refused rather than guessed, because a guess books the wrong hour.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from encounter_cli.domain import DAY_FORMS, DAY_TIME_EXAMPLES, MAX_DURATION
from encounter_cli.errors import InvalidInput, Unavailable

UTC = timezone.utc
# One calendar form for dates and times on every Python version (3.11's fromisoformat also reads
# week dates, ordinal days and compact forms): YYYY-MM-DD in ASCII digits, an optional time of day and offset.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_TIME = re.compile(
    ISO_DATE.pattern
    + r"(?P<time>[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{3}(?:[0-9]{3})?)?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)  # fractions of 3 or 6 digits and offsets with a colon: what Python 3.10's fromisoformat reads too
OFFSET_AT_END = re.compile(r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$")
# Python's datetime ends with year 9999. Times stay a year inside it, so a start, its end and
# either shown in any zone (offsets are under a day) can always be computed.
FIRST_YEAR, LAST_YEAR = 1, 9998
LONGEST_BOOKING = timedelta(minutes=MAX_DURATION)
OUTSIDE_YEARS = f"is outside the supported years {FIRST_YEAR} to {LAST_YEAR}"
WHOLE_MINUTE = "must be a whole minute (seconds must be 0)"
NOT_A_TIME = "is not an ISO 8601 time"
NOT_A_TIME_HINT = "use YYYY-MM-DDTHH:MM, optionally with an offset"
# Days named relative to the clinic's today, for the command line only (clinic_day, clinic_when).
NAMED_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_OFFSET = re.compile(r"(?P<sign>[+-])(?P<count>[0-9]+)(?P<unit>[dw])")
CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2})?")  # with a relative day: clinic wall time, no offset
NOT_A_DAY = "is not a date"
DAY_HINT = f"use {DAY_FORMS}"
CLINIC_TIME_HINT = (  # the command line's hint; the rule (NOT_A_TIME) is the one import rows and the API give
    f"use YYYY-MM-DDTHH:MM (optionally with an offset), now, or a day and a time such as {DAY_TIME_EXAMPLES};"
    f" a day is {DAY_FORMS}"
)


def load_zone(name: str) -> ZoneInfo:
    """The clinic zone: the configured IANA name, else the system's zone."""
    if not name:
        return system_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unavailable(
            f'timezone "{name}" is not a known IANA time zone',
            hint="set [clinic] timezone or ENCOUNTER_TIMEZONE to a name like Europe/Berlin",
        ) from None


def system_zone() -> ZoneInfo:
    """Best effort, never failing: TZ (a name or a zoneinfo file), else /etc/localtime, else UTC.

    TZ may hold what ZoneInfo cannot read (POSIX rules like "CET-1CEST"); then the
    machine's /etc/localtime is the better guess than an error nobody configured.
    """
    tz = os.environ.get("TZ", "").lstrip(":")
    for candidate in (tz, "/etc/localtime"):
        zone = _zone_from(candidate) if candidate else None
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _zone_from(name_or_path: str) -> ZoneInfo | None:
    path = Path(name_or_path)
    if not path.is_absolute():
        try:
            return ZoneInfo(name_or_path)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    target = str(path.resolve())
    if "zoneinfo/" in target:  # a link into the zone database names the zone
        return _zone_from(target.split("zoneinfo/", 1)[1])
    try:
        with path.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=path.name)
    except (OSError, ValueError):
        return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_when(text: str, zone: ZoneInfo, field: str = "start_time", date_only: bool = False) -> datetime:
    """Parse an ISO 8601 time (or `now`) into an aware UTC datetime: import rows and the API read times so.

    `date_only` lets a bare date mean its clinic midnight (for ranges such as
    --from); a booking needs a time of day, so a forgotten one never books 00:00.
    """
    return _read_when(text.strip(), zone, field, date_only, text.strip(), (NOT_A_TIME, NOT_A_TIME_HINT))


def clinic_when(text: str, zone: ZoneInfo, field: str = "start_time", date_only: bool = False) -> datetime:
    """A time as the command line reads it: what `parse_when` reads, or a day of `clinic_day` with a
    clinic wall time ("tomorrow 09:30"); with `date_only`, such a day alone means its clinic midnight.

    The day and time become one ISO wall time, so DST, whole-minute and year checks are the ISO ones.
    """
    shown = text.strip()
    word, clock = (shown.split(None, 1) + ["", ""])[:2]
    day = _relative_day(word, zone, field, shown)
    if day is None:
        return _read_when(shown, zone, field, date_only, shown, (NOT_A_TIME, CLINIC_TIME_HINT))
    if not clock and not date_only:
        raise InvalidInput(field, shown, "needs a time of day", hint=f'e.g. "{word} 09:30"')
    if clock and not CLOCK.fullmatch(clock):
        raise InvalidInput(field, shown, NOT_A_TIME, hint=CLINIC_TIME_HINT)
    wall = f"{day.isoformat()}T{clock}" if clock else day.isoformat()
    return _read_when(wall, zone, field, date_only, shown, (NOT_A_TIME, CLINIC_TIME_HINT))


def _read_when(
    text: str, zone: ZoneInfo, field: str, date_only: bool, shown: str, unreadable: tuple[str, str]
) -> datetime:
    """The ISO reading: `text` as typed or built from a relative day; errors show `shown`, what the user typed."""
    if text.lower() == "now":
        return now_utc().replace(second=0, microsecond=0)
    shape = ISO_TIME.fullmatch(text)
    if shape is not None and shape["time"] is None and not date_only:
        raise InvalidInput(field, shown, "needs a time of day", hint=f"e.g. {text}T09:30")
    try:
        parsed = read_iso_time(text)
    except ValueError:
        raise InvalidInput(field, shown, unreadable[0], hint=unreadable[1]) from None
    if parsed.second or parsed.microsecond:
        raise InvalidInput(field, shown, WHOLE_MINUTE)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:  # before localize, whose DST check converts the time
        raise InvalidInput(field, shown, OUTSIDE_YEARS)
    if parsed.tzinfo is None:
        parsed = localize(parsed, zone, field, shown)
    ensure_supported(parsed, zone, field, shown)
    return parsed.astimezone(UTC)


def read_iso_time(text: str) -> datetime:
    """`YYYY-MM-DD[THH:MM[:SS[.fff[fff]]]][Z|+HH:MM]`, naive or aware; ValueError for any other spelling.

    The one reading of time text on every path: no Unix timestamps, week dates or `+0100` offsets.
    """
    if not ISO_TIME.fullmatch(text):
        raise ValueError(NOT_A_TIME)
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))  # month 13: ValueError


def parse_instant(text: str, zone: ZoneInfo, field: str) -> datetime:
    """An RFC 3339 time with its offset, for callers whose zone is unknown (HTTP clients): naive is invalid."""
    shape = ISO_TIME.fullmatch(text.strip())
    if shape is not None and not (shape["time"] and OFFSET_AT_END.search(shape["time"])):
        raise InvalidInput(field, text, "must carry a UTC offset", hint="e.g. 2026-12-01T09:30:00+01:00")
    return parse_when(text, zone, field)


def ensure_supported(moment: datetime, zone: tzinfo, field: str, shown: str) -> None:
    if outside_supported_years(moment, zone):
        raise InvalidInput(field, shown, OUTSIDE_YEARS)


def outside_supported_years(moment: datetime, zone: tzinfo = UTC) -> bool:
    """Whether `moment`, or the end of the longest booking starting then, leaves years 1..9998 in UTC or `zone`."""
    if FIRST_YEAR < moment.year < LAST_YEAR:  # a day from either end at least: no offset or booking crosses it
        return False
    try:
        ends = (moment, moment + LONGEST_BOOKING)
        return not all(FIRST_YEAR <= end.astimezone(z).year <= LAST_YEAR for end in ends for z in (UTC, zone))
    except OverflowError:  # already past year 9999 or before year 1 on the way
        return True


def parse_date(text: str) -> date:
    """A calendar date, YYYY-MM-DD only; ValueError otherwise."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def localize(naive: datetime, zone: ZoneInfo, field: str, shown: str) -> datetime:
    """Attach the clinic zone to a wall-clock time, refusing DST gaps and overlaps."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    wall = naive.isoformat(timespec="minutes")
    hint = f"give an explicit UTC offset: {wall}{_offset(first)} or {wall}{_offset(second)}"
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise InvalidInput(field, shown, f"does not exist in {zone.key} (daylight-saving change)", hint=hint)
    raise InvalidInput(field, shown, f"is ambiguous in {zone.key} (daylight-saving change)", hint=hint)


def _offset(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")[16:]  # "+01:00" after "YYYY-MM-DDTHH:MM"


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A clinic calendar day as a UTC [start, end) pair: 23 or 25 hours long on a daylight-saving change."""
    return day_start(day, zone), day_start(day + timedelta(days=1), zone)


def clinic_day(text: str, zone: ZoneInfo, field: str = "date") -> date:
    """A clinic calendar day as the command line reads it: YYYY-MM-DD, or a day relative to the clinic's
    today (today, tomorrow, yesterday, the next monday or mon, today included, +3d, -1w)."""
    day = _relative_day(text.strip(), zone, field, text)
    if day is None:
        try:
            day = parse_date(text.strip())
        except ValueError:
            raise InvalidInput(field, text, NOT_A_DAY, hint=DAY_HINT) from None
    ensure_supported(datetime.combine(day, time(0), tzinfo=zone), zone, field, text)
    return day


def _relative_day(word: str, zone: ZoneInfo, field: str, shown: str) -> date | None:
    """The clinic day `word` names relative to today in `zone`, or None when it names none."""
    word, today = word.lower(), now_utc().astimezone(zone).date()
    if word in NAMED_DAYS:
        return today + timedelta(days=NAMED_DAYS[word])
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return today + timedelta(days=(number - today.weekday()) % 7)
    shift = DAY_OFFSET.fullmatch(word)
    if shift is None:
        return None
    # Cut to 8 digits before int(): a longer count is still >= 10**7 days, past the supported years either way.
    count = (shift["count"].lstrip("0") or "0")[:8]
    days = int(count) * (7 if shift["unit"] == "w" else 1)
    try:
        return today + timedelta(days=-days if shift["sign"] == "-" else days)
    except OverflowError:  # before year 1 or after 9999
        raise InvalidInput(field, shown, OUTSIDE_YEARS) from None


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """First instant of a clinic day in UTC (midnight may fall in a DST gap; fold=0 handles it)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def show(moment: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 with the clinic offset, for machine output."""
    return None if moment is None else moment.astimezone(zone).isoformat()


def show_short(moment: datetime | None, zone: tzinfo) -> str:
    """Compact clinic wall-clock form for tables."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
