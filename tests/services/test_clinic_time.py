"""Clinic time: input times and days in the clinic zone; naive times are clinic time, DST gaps refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from encounter_cli import clinic_time
from encounter_cli.clinic_time import (
    clinic_day,
    clinic_when,
    day_bounds,
    load_zone,
    parse_instant,
    parse_when,
    show,
    show_short,
)
from encounter_cli.errors import InvalidInput, Unavailable


def parse_day(text, zone, field="date"):
    """A typed day as the UTC bounds `appointment list --date` uses."""
    return day_bounds(clinic_day(text, zone, field), zone)


UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch):
    """Freeze clinic_time's clock at the given UTC instant."""

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr(clinic_time, "now_utc", lambda: moment)

    return freeze


# --- parse_when --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-06-10T09:00+05:30", utc(2030, 6, 10, 3, 30)),
        ("2030-06-10T09:00-04:00", utc(2030, 6, 10, 13, 0)),
        ("2030-06-10T09:00+00:00", utc(2030, 6, 10, 9, 0)),
        ("2030-06-10T09:00Z", utc(2030, 6, 10, 9, 0)),
        ("2030-06-10T09:00z", utc(2030, 6, 10, 9, 0)),
        ("2030-06-10T09:00:00Z", utc(2030, 6, 10, 9, 0)),  # zero seconds are fine
        ("2030-06-10 09:00+01:00", utc(2030, 6, 10, 8, 0)),
        ("  2030-06-10T09:00Z  ", utc(2030, 6, 10, 9, 0)),
        # Naive: wall-clock time in New York (EDT in summer, EST in winter).
        ("2030-06-10T09:00", utc(2030, 6, 10, 13, 0)),
        ("2030-01-10T09:00", utc(2030, 1, 10, 14, 0)),
        ("2030-06-10T23:30", utc(2030, 6, 11, 3, 30)),  # crosses the UTC date line
        # Just outside the DST changes.
        ("2030-03-10T01:59", utc(2030, 3, 10, 6, 59)),
        ("2030-03-10T03:00", utc(2030, 3, 10, 7, 0)),
        ("2030-11-03T00:59", utc(2030, 11, 3, 4, 59)),
        ("2030-11-03T02:00", utc(2030, 11, 3, 7, 0)),
        # The DST-change times themselves work with an explicit offset.
        ("2030-11-03T01:30-04:00", utc(2030, 11, 3, 5, 30)),
        ("2030-11-03T01:30-05:00", utc(2030, 11, 3, 6, 30)),
        ("2030-03-10T02:30-05:00", utc(2030, 3, 10, 7, 30)),
    ],
)
def test_parse_when(text, expected):
    parsed = parse_when(text, NEW_YORK)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_parse_when_now_is_the_current_whole_minute(frozen_now):
    frozen_now(utc(2030, 6, 10, 12, 34).replace(second=56, microsecond=789))
    for text in ("now", "NOW", " Now "):
        parsed = parse_when(text, NEW_YORK)
        assert parsed == utc(2030, 6, 10, 12, 34)
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2030-06-10T09:00:30", "2030-06-10T09:00:01Z", "2030-06-10T09:00:00.500", "2030-06-10T09:00:00.000001+02:00"],
)
def test_non_zero_seconds_are_invalid(text):
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, NEW_YORK)
    assert caught.value.field == "start_time"
    assert "whole minute" in caught.value.rule


@pytest.mark.parametrize("text", ["2030-06-10T09:00:00.5", "2030-06-10T09:00+0100", "2030-06-10T09:00:00.0000+01:00"])
def test_forms_python_3_10_cannot_read_are_refused_on_every_version(text):
    """Fractions of 3 or 6 digits and offsets with a colon only: 3.11 reads more than 3.10 would."""
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, NEW_YORK)
    assert caught.value.rule == "is not an ISO 8601 time"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow 9am",
        "09:00",
        "2030-13-01T09:00",
        "2030-06-31T09:00",
        "2030-06-10T25:00",
        "next week",
        "'; DROP TABLE x;--",
    ],
)
def test_garbage_is_invalid_with_a_hint(text):
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, NEW_YORK)
    assert caught.value.field == "start_time"
    assert caught.value.rule == "is not an ISO 8601 time"
    assert caught.value.hint


def test_parse_when_names_the_given_field():
    with pytest.raises(InvalidInput) as caught:
        parse_when("soon", NEW_YORK, field="from")
    assert caught.value.field == "from"
    assert caught.value.message.startswith('from: "soon"')


@pytest.mark.parametrize(
    ("text", "zone", "problem"),
    [
        ("2030-03-10T02:30", NEW_YORK, "does not exist"),  # spring forward: 02:00 -> 03:00
        ("2030-03-10T02:00", NEW_YORK, "does not exist"),
        ("2030-03-10T02:59", NEW_YORK, "does not exist"),
        ("2030-11-03T01:30", NEW_YORK, "is ambiguous"),  # fall back: 01:00-02:00 happens twice
        ("2030-11-03T01:00", NEW_YORK, "is ambiguous"),
        ("2030-11-03T01:59", NEW_YORK, "is ambiguous"),
        ("2030-03-31T02:30", BERLIN, "does not exist"),
        ("2030-10-27T02:30", BERLIN, "is ambiguous"),
    ],
)
def test_dst_gap_and_overlap_are_invalid_with_offset_hint(text, zone, problem):
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, zone)
    error = caught.value
    assert error.field == "start_time"
    assert error.rule.startswith(problem)
    assert zone.key in error.rule
    assert "offset" in error.hint
    assert error.kind == "invalid"


# --- clinic days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "start", "end"),
    [
        ("2030-06-10", NEW_YORK, utc(2030, 6, 10, 4, 0), utc(2030, 6, 11, 4, 0)),  # EDT
        ("2030-01-10", NEW_YORK, utc(2030, 1, 10, 5, 0), utc(2030, 1, 11, 5, 0)),  # EST
        ("2030-03-10", NEW_YORK, utc(2030, 3, 10, 5, 0), utc(2030, 3, 11, 4, 0)),  # 23-hour day
        ("2030-11-03", NEW_YORK, utc(2030, 11, 3, 4, 0), utc(2030, 11, 4, 5, 0)),  # 25-hour day
        (" 2030-06-10 ", NEW_YORK, utc(2030, 6, 10, 4, 0), utc(2030, 6, 11, 4, 0)),
        ("2030-06-10", BERLIN, utc(2030, 6, 9, 22, 0), utc(2030, 6, 10, 22, 0)),
        ("2030-06-10", ZoneInfo("UTC"), utc(2030, 6, 10), utc(2030, 6, 11)),
        # Midnight that does not exist (Havana springs forward at 00:00): the day starts at the change.
        ("2030-03-10", ZoneInfo("America/Havana"), utc(2030, 3, 10, 5, 0), utc(2030, 3, 11, 4, 0)),
    ],
)
def test_parse_day_gives_utc_bounds_of_the_local_day(text, zone, start, end):
    assert parse_day(text, zone) == (start, end)


@pytest.mark.parametrize(
    ("now", "text", "start", "end"),
    [
        # 02:00 UTC on June 11 is still June 10 (22:00) in New York.
        (utc(2030, 6, 11, 2, 0), "today", utc(2030, 6, 10, 4, 0), utc(2030, 6, 11, 4, 0)),
        (utc(2030, 6, 11, 2, 0), "tomorrow", utc(2030, 6, 11, 4, 0), utc(2030, 6, 12, 4, 0)),
        (utc(2030, 6, 11, 5, 0), "TODAY", utc(2030, 6, 11, 4, 0), utc(2030, 6, 12, 4, 0)),
        (utc(2030, 6, 11, 5, 0), " Tomorrow ", utc(2030, 6, 12, 4, 0), utc(2030, 6, 13, 4, 0)),
        # The day before spring-forward: tomorrow is 23 hours long.
        (utc(2030, 3, 9, 15, 0), "tomorrow", utc(2030, 3, 10, 5, 0), utc(2030, 3, 11, 4, 0)),
    ],
)
def test_today_and_tomorrow_are_clinic_days(frozen_now, now, text, start, end):
    frozen_now(now)
    assert parse_day(text, NEW_YORK) == (start, end)


@pytest.mark.parametrize("text", ["", "someday", "2030-02-30", "10/06/2030", "2030-06-10T09:00x"])
def test_parse_day_refuses_non_dates(text):
    with pytest.raises(InvalidInput) as caught:
        parse_day(text, NEW_YORK)
    assert caught.value.field == "date"
    assert "is not a date" in caught.value.rule


# --- days relative to the clinic's today (the command line) ------------------------------------

MONTH_END = utc(2026, 11, 30, 17, 0)  # Monday 2026-11-30, 12:00 in New York
YEAR_END = utc(2027, 1, 1, 4, 30)  # Thursday 2026-12-31, 23:30 in New York: already 2027 in UTC


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (MONTH_END, "today", date(2026, 11, 30)),
        (MONTH_END, "tomorrow", date(2026, 12, 1)),
        (MONTH_END, "yesterday", date(2026, 11, 29)),
        (MONTH_END, "+1d", date(2026, 12, 1)),
        (MONTH_END, "+0d", date(2026, 11, 30)),
        (MONTH_END, "-0w", date(2026, 11, 30)),
        (MONTH_END, "+1w", date(2026, 12, 7)),
        (MONTH_END, "-1w", date(2026, 11, 23)),
        (MONTH_END, "+31d", date(2026, 12, 31)),
        (MONTH_END, "+0010d", date(2026, 12, 10)),  # any count of digits
        (MONTH_END, "mon", date(2026, 11, 30)),  # the next Monday, today included
        (MONTH_END, "Monday", date(2026, 11, 30)),
        (MONTH_END, "tue", date(2026, 12, 1)),
        (MONTH_END, "SUNDAY", date(2026, 12, 6)),
        (MONTH_END, "  Tomorrow  ", date(2026, 12, 1)),
        (MONTH_END, "+1D", date(2026, 12, 1)),
        (YEAR_END, "today", date(2026, 12, 31)),
        (YEAR_END, "tomorrow", date(2027, 1, 1)),
        (YEAR_END, "yesterday", date(2026, 12, 30)),
        (YEAR_END, "+1d", date(2027, 1, 1)),
        (YEAR_END, "+1w", date(2027, 1, 7)),
        (YEAR_END, "-1w", date(2026, 12, 24)),
        (YEAR_END, "thu", date(2026, 12, 31)),
        (YEAR_END, "fri", date(2027, 1, 1)),
        (YEAR_END, "wednesday", date(2027, 1, 6)),
    ],
)
def test_relative_days_are_clinic_days_across_month_and_year_ends(frozen_now, now, text, expected):
    frozen_now(now)
    assert clinic_day(text, NEW_YORK) == expected
    midnight = datetime.combine(expected, datetime.min.time(), tzinfo=NEW_YORK).astimezone(UTC)
    assert clinic_when(text, NEW_YORK, "from", date_only=True) == midnight  # a range bound: its midnight


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (MONTH_END, "tomorrow 09:30", utc(2026, 12, 1, 14, 30)),
        (MONTH_END, "mon 14:00", utc(2026, 11, 30, 19, 0)),
        (MONTH_END, "+3d 09:00", utc(2026, 12, 3, 14, 0)),
        (MONTH_END, " Sun   10:15 ", utc(2026, 12, 6, 15, 15)),
        (MONTH_END, "tomorrow 09:30:00", utc(2026, 12, 1, 14, 30)),
        (YEAR_END, "tomorrow 00:00", utc(2027, 1, 1, 5, 0)),
        (YEAR_END, "fri 23:45", utc(2027, 1, 2, 4, 45)),
        (YEAR_END, "-1w 08:00", utc(2026, 12, 24, 13, 0)),
    ],
)
def test_a_relative_day_with_a_time_is_clinic_wall_time(frozen_now, now, text, expected):
    frozen_now(now)
    for date_only in (False, True):
        assert clinic_when(text, NEW_YORK, date_only=date_only) == expected


DAY_BEFORE_SPRING_FORWARD = utc(2026, 3, 7, 15, 0)  # Saturday; New York jumps 02:00 -> 03:00 on Sunday
DAY_BEFORE_FALL_BACK = utc(2026, 10, 31, 14, 0)  # Saturday; New York repeats 01:00-02:00 on Sunday


@pytest.mark.parametrize(
    ("now", "text", "problem", "offsets"),
    [
        (DAY_BEFORE_SPRING_FORWARD, "tomorrow 02:30", "does not exist", ("-05:00", "-04:00")),
        (DAY_BEFORE_SPRING_FORWARD, "sun 02:00", "does not exist", ("-05:00", "-04:00")),
        (DAY_BEFORE_FALL_BACK, "tomorrow 01:30", "is ambiguous", ("-04:00", "-05:00")),
        (DAY_BEFORE_FALL_BACK, "+1d 01:00", "is ambiguous", ("-04:00", "-05:00")),
    ],
)
def test_a_relative_day_with_a_time_refuses_dst_gaps_and_overlaps(frozen_now, now, text, problem, offsets):
    frozen_now(now)
    with pytest.raises(InvalidInput) as caught:
        clinic_when(text, NEW_YORK)
    error = caught.value
    assert error.message.startswith(f'start_time: "{text}" {problem} in America/New_York')
    wall = f"{now.date() + timedelta(days=1)}T{text.split()[1]}"
    assert error.hint == f"give an explicit UTC offset: {wall}{offsets[0]} or {wall}{offsets[1]}"


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (DAY_BEFORE_SPRING_FORWARD, "tomorrow 01:59", utc(2026, 3, 8, 6, 59)),
        (DAY_BEFORE_SPRING_FORWARD, "tomorrow 03:00", utc(2026, 3, 8, 7, 0)),
        (DAY_BEFORE_SPRING_FORWARD, "tomorrow", utc(2026, 3, 8, 5, 0)),  # its midnight is fine (EST)
        (DAY_BEFORE_FALL_BACK, "tomorrow 02:00", utc(2026, 11, 1, 7, 0)),
        (DAY_BEFORE_FALL_BACK, "sun", utc(2026, 11, 1, 4, 0)),  # midnight, still EDT
    ],
)
def test_relative_days_next_to_a_dst_change(frozen_now, now, text, expected):
    frozen_now(now)
    assert clinic_when(text, NEW_YORK, "from", date_only=True) == expected


def test_relative_dst_change_days_have_their_true_length(frozen_now):
    frozen_now(DAY_BEFORE_SPRING_FORWARD)
    assert parse_day("tomorrow", NEW_YORK) == (utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0))  # 23 hours
    frozen_now(DAY_BEFORE_FALL_BACK)
    assert parse_day("sunday", NEW_YORK) == (utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0))  # 25 hours


@pytest.mark.parametrize("text", ["tomorrow", "mon", "+3d", " Yesterday "])
def test_a_start_needs_a_time_of_day_after_a_relative_day_too(frozen_now, text):
    frozen_now(MONTH_END)
    with pytest.raises(InvalidInput) as caught:
        clinic_when(text, NEW_YORK)
    assert (caught.value.field, caught.value.rule) == ("start_time", "needs a time of day")
    assert caught.value.hint == f'e.g. "{text.strip()} 09:30"'


def test_a_relative_time_must_be_a_whole_minute(frozen_now):
    frozen_now(MONTH_END)
    with pytest.raises(InvalidInput) as caught:
        clinic_when("tomorrow 09:30:15", NEW_YORK)
    assert caught.value.rule == "must be a whole minute (seconds must be 0)"


ACCEPTED_FORMS = ("YYYY-MM-DD", "today", "tomorrow", "yesterday", "monday", "mon", "+3d", "-1w")


@pytest.mark.parametrize(
    "text",
    ["someday", "tomorow", "next week", "mond", "+3", "3d", "+3m", "+ 3d", "+-3d", "+３d", "mon-fri", "weekday"],
)
def test_unknown_day_words_are_invalid_and_the_hint_lists_the_forms(frozen_now, text):
    frozen_now(MONTH_END)
    with pytest.raises(InvalidInput) as caught:
        clinic_day(text, NEW_YORK)
    assert (caught.value.field, caught.value.rule) == ("date", "is not a date")
    assert all(form in caught.value.hint for form in ACCEPTED_FORMS)


@pytest.mark.parametrize(
    "text", ["tomorrow 9:30", "tomorrow 9am", "tomorrow 09:30+01:00", "mon 25:00", "soon 09:30", "next tuesday"]
)
def test_unknown_times_are_invalid_as_in_import_and_the_hint_lists_the_forms(frozen_now, text):
    frozen_now(MONTH_END)
    with pytest.raises(InvalidInput) as caught:
        clinic_when(text, NEW_YORK, "from", date_only=True)
    assert (caught.value.field, caught.value.rule) == ("from", "is not an ISO 8601 time")
    assert all(form in caught.value.hint for form in (*ACCEPTED_FORMS, "YYYY-MM-DDTHH:MM", "tomorrow 09:30"))


@pytest.mark.parametrize("text", ["+99999999999999999999d", "+3000000d", "-1000000w", "+2920000d"])
def test_relative_days_outside_the_supported_years_are_invalid(frozen_now, text):
    frozen_now(MONTH_END)
    for parse in (lambda: clinic_day(text, NEW_YORK), lambda: clinic_when(f"{text} 09:00", NEW_YORK)):
        with pytest.raises(InvalidInput) as caught:
            parse()
        assert caught.value.rule == "is outside the supported years 1 to 9998"


@pytest.mark.parametrize("text", ["today", "tomorrow", "yesterday", "mon", "+1d", "-1w", "now"])
def test_the_api_and_import_readings_take_no_relative_time(frozen_now, text):
    """An HTTP client's or a file's times are RFC 3339 / ISO 8601 only: "today 09:30" means nothing to them."""
    frozen_now(MONTH_END)
    for parse in (parse_when, parse_instant):
        with pytest.raises(InvalidInput):
            parse(f"{text} 09:30", NEW_YORK, "from")


def test_the_iso_readings_are_the_same_in_both(frozen_now):
    frozen_now(MONTH_END)
    for text in ("2026-12-01T09:30", "2026-12-01T09:30+01:00", "2026-12-01 09:30Z", "now"):
        assert clinic_when(text, NEW_YORK) == parse_when(text, NEW_YORK)
    assert clinic_day(" 2026-12-01 ", NEW_YORK) == date(2026, 12, 1)


# --- zones and display -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "America/Nowhere", "../../etc/passwd", "EST5EDT,M3.2.0,M11.1.0x"]
)
def test_load_zone_with_a_bad_name_is_unavailable(name):
    with pytest.raises(Unavailable) as caught:
        load_zone(name)
    assert name in caught.value.message
    assert "timezone" in caught.value.hint
    assert caught.value.kind == "unavailable"


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin", "UTC", "Asia/Kolkata"])
def test_load_zone_with_an_iana_name(name):
    assert load_zone(name).key == name


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("Asia/Tokyo", "Asia/Tokyo"),
        (":Europe/Paris", "Europe/Paris"),
        (":/usr/share/zoneinfo/Asia/Kolkata", "Asia/Kolkata"),  # a path, as systemd and containers set it
    ],
)
def test_empty_zone_name_falls_back_to_the_system_zone(monkeypatch, tz, expected):
    monkeypatch.setenv("TZ", tz)
    assert load_zone("").key == expected


@pytest.mark.parametrize("tz", ["CET-1CEST,M3.5.0,M10.5.0/3", "UTC0", ":/no/such/file"])
def test_a_system_tz_zoneinfo_cannot_read_falls_back_instead_of_failing(monkeypatch, tz):
    """Nobody configured it, so it must not stop the tool: /etc/localtime, else UTC."""
    monkeypatch.setenv("TZ", tz)
    machine = clinic_time._zone_from("/etc/localtime") or clinic_time.ZoneInfo("UTC")
    assert load_zone("").key == machine.key


def test_show_uses_the_clinic_offset():
    moment = utc(2030, 6, 10, 13, 0)
    assert show(moment, NEW_YORK) == "2030-06-10T09:00:00-04:00"
    assert show(utc(2030, 1, 10, 14, 0), NEW_YORK) == "2030-01-10T09:00:00-05:00"
    assert show(None, NEW_YORK) is None
    assert show_short(moment, NEW_YORK) == "2030-06-10 09:00"
    assert show_short(None, NEW_YORK) == ""


@pytest.mark.parametrize(
    "text", ["2030-06-10T09:00", "2030-01-10T09:00", "2030-11-03T01:30-05:00", "2030-06-10T09:00+09:00"]
)
def test_show_round_trips_through_parse_when(text):
    parsed = parse_when(text, NEW_YORK)
    assert parse_when(show(parsed, NEW_YORK), NEW_YORK) == parsed


@pytest.mark.parametrize("text", ["2030-06-11", "20300611T0900", "2030-W24-2T09:00", "2030-162T09:00"])
def test_a_booking_time_needs_a_calendar_date_and_a_time_of_day(text):
    """A forgotten time must not book midnight; week dates and compact forms are not accepted either."""
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, NEW_YORK)
    assert caught.value.field == "start_time"


def test_a_range_bound_may_be_a_bare_date_meaning_its_clinic_midnight():
    assert parse_when("2030-06-11", NEW_YORK, "from", date_only=True) == utc(2030, 6, 11, 4, 0)


@pytest.mark.parametrize(
    ("text", "offsets"),
    [("2030-03-10T02:30", ("-05:00", "-04:00")), ("2030-11-03T01:30", ("-04:00", "-05:00"))],
)
def test_the_daylight_saving_hint_offers_the_two_real_offsets(text, offsets):
    with pytest.raises(InvalidInput) as caught:
        parse_when(text, NEW_YORK)
    assert caught.value.hint == f"give an explicit UTC offset: {text}{offsets[0]} or {text}{offsets[1]}"


# --- supported years (D1) ----------------------------------------------------------------------

KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its wall clock runs ahead of UTC into the next year


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("9999-12-31T23:30", NEW_YORK),  # its UTC value is in year 10000
        ("9999-12-31T23:30Z", NEW_YORK),
        ("9999-06-01T09:00Z", NEW_YORK),  # year 9999 itself is outside 1..9998
        ("9998-12-31T23:15Z", KIRITIMATI),  # clinic wall clock in 9999
        ("9998-12-31T22:00Z", ZoneInfo("UTC")),  # start fits, start + 180 minutes does not
        ("0001-01-01T00:30+01:00", NEW_YORK),  # UTC value before year 1
        ("0001-01-01T00:30", BERLIN),  # naive, in a zone ahead of UTC
        ("0001-01-01T03:00Z", NEW_YORK),  # clinic wall clock before year 1
    ],
)
def test_times_outside_years_1_to_9998_are_invalid_not_a_crash(text, zone):
    for field, date_only in (("start_time", False), ("from", True)):
        with pytest.raises(InvalidInput) as caught:
            parse_when(text, zone, field, date_only=date_only)
        assert caught.value.field == field
        assert "outside the supported years 1 to 9998" in caught.value.rule


@pytest.mark.parametrize(
    ("text", "zone"),
    [("9998-12-31T15:00", NEW_YORK), ("9998-12-31T20:45Z", ZoneInfo("UTC")), ("0001-01-01T05:00Z", NEW_YORK)],
)
def test_times_just_inside_the_supported_years_are_read(text, zone):
    assert parse_when(text, zone).year in (1, 9998)


@pytest.mark.parametrize(("text", "zone"), [("9999-12-31", BERLIN), ("9999-01-01", NEW_YORK), ("0001-01-01", BERLIN)])
def test_days_outside_the_supported_years_are_invalid(text, zone):
    for parse in (lambda: parse_day(text, zone), lambda: parse_when(text, zone, "to", date_only=True)):
        with pytest.raises(InvalidInput) as caught:
            parse()
        assert "outside the supported years" in caught.value.rule


def test_the_last_supported_day_is_listed_whole():
    assert parse_day("9998-12-31", NEW_YORK) == (utc(9998, 12, 31, 5, 0), utc(9999, 1, 1, 5, 0))


# --- one strict calendar form (D13) ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "20270310",
        "2027-W10-3",
        "2027W103",
        "2027-069",
        "2027-03-10T09:00",
        "２０２７-03-10",
        "+2027-03-10",
        "2027-3-10",
    ],
)
def test_a_day_is_only_yyyy_mm_dd_on_every_python(text):
    with pytest.raises(InvalidInput) as caught:
        parse_day(text, NEW_YORK)
    assert "is not a date" in caught.value.rule


@pytest.mark.parametrize("text", ["２０３０-06-10T09:00", "2030-06-10T０9:00", "2030-06-10T09:00+0١:00"])
def test_times_use_ascii_digits_only(text):
    with pytest.raises(InvalidInput):
        parse_when(text, NEW_YORK)
