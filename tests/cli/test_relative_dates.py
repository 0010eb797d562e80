"""Days relative to the clinic's today on the command line: --date, --from/--to and --start.

The reading clock (clinic_time.now_utc) is frozen on a day years ahead, so "yesterday" and
"tomorrow" are fixed days; the services keep the real clock, to which those days are still future.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

# The services are imported before any test freezes the reading clock, so they keep the real one
# (they bind now_utc when imported): bookings 2031 are in their future, and no frozen clock leaks.
from encounter_cli import clinic_time, services  # noqa: F401
from tests.helpers import error_json, json_out

# Tuesday 2031-01-07, 10:00 in New York (the clinic zone of the tests).
TODAY = datetime(2031, 1, 7, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def clinic(cli, monkeypatch):
    """A patient, a doctor and bookings yesterday, today, in six days and in a week."""
    cli("patient", "add", "--first-name", "Ada", "--last-name", "Lovelace", "--email", "ada@example.org")
    cli("doctor", "add", "--full-name", "Dr Who", "--specialization", "General")
    for start in ("2031-01-06T09:00", "2031-01-07T11:00", "2031-01-13T09:00", "2031-01-14T09:00"):
        cli("appointment", "book", "--patient", "1", "--doctor", "1", "--start", start, "--duration", "30")
    monkeypatch.setattr(clinic_time, "now_utc", lambda: TODAY)
    return cli


def help_text(run_cli, *command: str) -> str:
    """The help as one line of words: Rich wraps it inside a box."""
    return re.sub(r"[\s│]+", " ", run_cli(*command, "--help").stdout)


def listed(cli, *options: str) -> list[int]:
    return [a["id"] for a in json_out(cli("appointment", "list", *options, "-o", "json"))]


def test_list_by_a_relative_date(clinic):
    assert listed(clinic, "--date", "yesterday") == [1]
    assert listed(clinic, "--date", "today") == [2]
    assert listed(clinic, "--date", "MON") == [3]  # the next Monday: 2031-01-13
    assert listed(clinic, "--date", "tue") == [2]  # today is a Tuesday
    assert listed(clinic, "--date", "+1w") == [4]
    assert listed(clinic, "--date", "-1d") == [1]


def test_list_a_relative_range(clinic):
    assert listed(clinic, "--from", "today", "--to", "+1w") == [2, 3]  # --to is exclusive: its midnight
    assert listed(clinic, "--from", "yesterday 09:30", "--to", "mon 09:00") == [2]
    assert listed(clinic, "--from", "-1w", "--to", "tomorrow") == [1, 2]


def test_book_and_reschedule_with_a_relative_day_and_a_time(clinic):
    booked = json_out(
        clinic("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "tomorrow 09:30",
               "--duration", "30", "-o", "json")
    )  # fmt: skip
    assert (booked["id"], booked["start_time"]) == (5, "2031-01-08T09:30:00-05:00")
    moved = json_out(clinic("appointment", "reschedule", "5", "--start", "fri 14:00", "-o", "json"))
    assert moved["start_time"] == "2031-01-10T14:00:00-05:00"


def test_a_start_without_a_time_of_day_is_invalid(clinic):
    result = clinic(
        "appointment", "book", "--patient", "1", "--doctor", "1", "--start", "tomorrow", "--duration", "30",
        "-o", "json", expect=3,
    )  # fmt: skip
    error = error_json(result)
    assert error["message"] == 'start_time: "tomorrow" needs a time of day'
    assert 'hint: e.g. "tomorrow 09:30"' in result.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("appointment", "list", "--date", "someday"), "date"),
        (("appointment", "list", "--from", "tomorow"), "from"),
        (("schedule", "--date", "next week"), "date"),
        (("doctor", "time-off", "list", "1", "--to", "+3"), "to"),
    ],
)
def test_an_unknown_word_is_invalid_and_the_hint_lists_the_forms(clinic, args, field):
    result = clinic(*args, expect=3)
    assert result.stderr.splitlines()[0].startswith(f"error: --{field}: ")
    hint = result.stderr.splitlines()[1]
    for form in ("YYYY-MM-DD", "today", "tomorrow", "yesterday", "mon or monday", "+3d", "-1w"):
        assert form in hint


def test_schedule_and_time_off_take_relative_days(clinic):
    day = json_out(clinic("schedule", "--date", "Monday", "-o", "json"))
    assert day["date"] == "2031-01-13"
    added = json_out(
        clinic("doctor", "time-off", "add", "1", "--from", "+2d", "--to", "+2d 12:00", "--reason", "x", "-o", "json")
    )
    assert (added["start_time"], added["end_time"]) == ("2031-01-09T00:00:00-05:00", "2031-01-09T12:00:00-05:00")
    listed_off = json_out(clinic("doctor", "time-off", "list", "1", "--from", "today", "--to", "+1w", "-o", "json"))
    assert [t["id"] for t in listed_off] == [added["id"]]
    assert json_out(clinic("doctor", "time-off", "list", "1", "--from", "fri", "-o", "json")) == []


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("appointment", "list"), "--date"),
        (("appointment", "list"), "--from"),
        (("appointment", "slots"), "--to"),
        (("schedule",), "--date"),
        (("doctor", "time-off", "add"), "--from"),
    ],
)
def test_help_names_the_relative_forms(run_cli, command, option):
    text = help_text(run_cli, *command)
    assert option in text
    assert "yesterday" in text and "+3d or -1w" in text


@pytest.mark.parametrize("command", [("appointment", "book"), ("appointment", "reschedule")])
def test_start_help_shows_a_day_with_a_time(run_cli, command):
    assert '"tomorrow 09:30"' in help_text(run_cli, *command)
