"""The hours grammar and clinic wall time (no database): what `doctor hours --set` and `[clinic] hours` accept."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from encounter_cli.errors import InvalidInput
from encounter_cli.working_hours import (
    NO_HOURS,
    day_intervals,
    format_hours,
    hours_facts,
    parse_hours,
    within_hours,
)

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
NINE_TO_FIVE = (9 * 60, 17 * 60)


def test_the_documented_example_reads_back_as_written():
    texts = ["mon-fri 09:00-12:30,13:30-17:00", "sat 09:00-12:00"]
    week = parse_hours(texts)
    assert week[0] == ((540, 750), (810, 1020)) and week[5] == ((540, 720),) and week[6] == ()
    assert format_hours(week) == texts


@pytest.mark.parametrize(
    ("texts", "lines"),
    [
        (["Monday,WED 08:00-12:00"], ["mon,wed 08:00-12:00"]),  # full names, any case, lists
        (["sat-mon 10:00-11:00"], ["mon,sat-sun 10:00-11:00"]),  # a range may wrap past Sunday
        (["tue 09:00-12:00,12:00-13:00"], ["tue 09:00-13:00"]),  # touching intervals are one stretch
        (["mon 13:00-14:00,9:00-10:00"], ["mon 09:00-10:00,13:00-14:00"]),  # sorted; H:MM accepted
        (["mon-tue 09:00-10:00; thu 09:00-10:00"], ["mon-tue,thu 09:00-10:00"]),  # groups split by ";"
        (["", " ; "], []),
    ],
)
def test_grammar_variants(texts, lines):
    assert format_hours(parse_hours(texts)) == lines


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("mon-fri", "is not DAYS HH:MM-HH:MM"),
        ("mon-fri 9-17", 'has "9", not a time from 00:00 to 24:00'),
        ("mon 24:00-24:30", 'has "24:00"'),  # 24:00 ends a day; it starts none
        ("mon 09:00-24:01", 'has "24:01"'),
        ("mon 10:60-11:00", 'has "10:60"'),
        ("mon 12:00-09:00", "ends before it starts"),
        ("mon 09:00-09:00", "ends before it starts"),
        ("mon 09:00-12:00,11:00-13:00", "intervals that overlap"),
        ("funday 09:00-10:00", 'names no weekday "funday"'),
        ("mon 09:00-10:00 extra", "is not DAYS"),
        ("mon; 09:00-10:00", "is not DAYS"),
        ("mon 09:00-10:00; mon 11:00-12:00", "gives mon twice"),
        ("mon'; DROP TABLE doctors; -- 09:00-10:00", "is not DAYS"),
    ],
)
def test_mistakes_are_invalid_and_say_what_is_wrong(text, rule):
    with pytest.raises(InvalidInput) as caught:
        parse_hours([text])
    assert rule in caught.value.message and caught.value.field == "hours"
    assert "--set" in (caught.value.hint or "")


def test_an_interval_may_end_at_midnight():
    week = parse_hours(["sun 22:00-24:00"])
    assert week[6] == ((22 * 60, 24 * 60),) and format_hours(week) == ["sun 22:00-24:00"]
    [(start, end)] = day_intervals(week, date(2031, 3, 9), NEW_YORK)
    assert end.astimezone(NEW_YORK).isoformat() == "2031-03-10T00:00:00-04:00"


def test_a_day_twice_across_sets_is_invalid():
    with pytest.raises(InvalidInput, match="gives fri twice"):
        parse_hours(["mon-fri 09:00-12:00", "fri 13:00-14:00"])


def test_facts_list_every_day():
    facts = hours_facts(parse_hours(["mon 09:00-10:00"]), "doctor")
    assert facts["days"] == {"mon": ["09:00-10:00"], "tue": [], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []}
    assert facts["hours"] == ["mon 09:00-10:00"] and facts["source"] == "doctor"


# --- wall time across daylight-saving changes (America/New_York, 2031) ---------------------------------------------


@pytest.mark.parametrize("sunday", [date(2031, 3, 9), date(2031, 11, 2)])  # spring forward, fall back
def test_a_sunday_nine_oclock_start_is_nine_local_on_both_change_days(sunday):
    week = parse_hours(["sun 09:00-17:00"])
    [(start, end)] = day_intervals(week, sunday, NEW_YORK)
    assert start.astimezone(NEW_YORK).strftime("%H:%M") == "09:00"
    assert end.astimezone(NEW_YORK).strftime("%H:%M") == "17:00"
    assert (end - start).total_seconds() == 8 * 3600


def test_the_utc_time_of_nine_local_moves_with_the_offset():
    week = parse_hours(["sun 09:00-10:00"])
    before = day_intervals(week, date(2031, 3, 2), NEW_YORK)[0][0]
    after = day_intervals(week, date(2031, 3, 9), NEW_YORK)[0][0]
    assert (before.hour, after.hour) == (14, 13)  # EST -5, then EDT -4


def test_a_boundary_inside_the_spring_gap_falls_the_gap_later():
    week = parse_hours(["sun 02:30-04:00"])  # 02:00-03:00 does not exist on 2031-03-09
    [(start, end)] = day_intervals(week, date(2031, 3, 9), NEW_YORK)
    assert start.astimezone(NEW_YORK).strftime("%H:%M") == "03:30"
    assert (end - start).total_seconds() == 30 * 60


def test_within_hours_needs_one_interval_of_the_start_day():
    week = parse_hours(["mon-fri 09:00-12:30,13:30-17:00"])

    def inside(day: int, hour: int, minute: int, minutes: int) -> bool:
        start = datetime(2031, 3, day, hour, minute, tzinfo=NEW_YORK)  # 2031-03-03 is a Monday
        return within_hours(week, start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC), NEW_YORK)

    assert inside(3, 9, 0, 30) and inside(3, 12, 0, 30)  # 12:00-12:30 ends exactly at the break
    assert not inside(3, 12, 15, 30)  # crosses the break
    assert not inside(3, 8, 30, 30) and not inside(3, 16, 45, 30)
    assert not inside(8, 10, 0, 30)  # Saturday
    monday = datetime(2031, 3, 3, 3, 0, tzinfo=UTC)
    assert within_hours(NO_HOURS, monday, monday + timedelta(minutes=15), NEW_YORK)  # no hours: any time


@pytest.mark.parametrize(
    "hours",
    [
        (),
        ("mon-fri 09:00-12:30,13:30-17:00",),
        ("sun 00:00-23:59",),
        ("sat-mon 01:00-03:30,22:00-23:30",),  # inside the daylight-saving changes' missing and doubled hours
    ],
)
def test_memoized_day_intervals_answer_as_a_fresh_computation(hours):
    """`within_hours` reads memoized `day_intervals`: its answers equal ones worked out afresh, around both
    daylight-saving changes of 2031, for every start asked twice (the second time from the memo)."""
    week = parse_hours(hours)

    def fresh(start: datetime, end: datetime) -> bool:
        if week == NO_HOURS:
            return True
        intervals = day_intervals.__wrapped__(week, start.astimezone(NEW_YORK).date(), NEW_YORK)
        return any(first <= start and end <= last for first, last in intervals)

    for first_day in (datetime(2031, 3, 8, tzinfo=NEW_YORK), datetime(2031, 11, 1, tzinfo=NEW_YORK)):
        first = first_day.astimezone(UTC)
        for quarter in range(3 * 24 * 4):  # three days in UTC quarter hours, each as 15, 60 and 180 minutes
            start = first + timedelta(minutes=15 * quarter)
            for minutes in (15, 60, 180):
                end = start + timedelta(minutes=minutes)
                assert within_hours(week, start, end, NEW_YORK) == fresh(start, end), (start, minutes)
