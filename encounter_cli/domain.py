"""Words and limits of the clinic's domain, shared by every layer.

Free of SQLAlchemy and Pydantic on purpose: the command line's `--help` uses
these too, and must stay fast.
"""

from __future__ import annotations

from enum import Enum

MAX_ID = 2**31 - 1  # id columns are INTEGER on every database
MAX_ROWS = 2**62  # a --limit or --offset far past any table, and inside SQLite's 64-bit integers
MIN_DURATION, MAX_DURATION = 15, 180  # minutes; no appointment is longer than MAX_DURATION
# Characters that must not reach a terminal or a table as they are: control characters (Unicode
# category Cc: C0, DEL, C1), line and paragraph separators, and the bidirectional overrides, which
# can make one name display as another; and lone surrogates (invalid UTF-8 on a command line, "\ud800" in
# JSON), which no encoding can write. Input refuses them; human output shows them escaped.
CONTROL_CODES = (
    *range(0x20),
    *range(0x7F, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0xD800, 0xE000),
)
LINE_BREAKS_AND_TABS = "\t\n\r"  # the controls free text (a reason) may hold
# The clinic days the command line reads wherever it takes a day or a time (clinic_time.clinic_day): its
# option help and its error hints quote these texts, so they stay true together.
# The API's `date` reads the same days; its times are RFC 3339 only.
DAY_FORMS = (
    "YYYY-MM-DD, today, tomorrow, yesterday, a weekday (mon or monday: the next one, today included), +3d or -1w"
)
DAY_TIME_EXAMPLES = '"tomorrow 09:30", "mon 14:00", "+3d 09:00"'


class AppointmentStatus(str, Enum):
    """Where an appointment stands. Only `booked` holds a doctor's time."""

    booked = "booked"
    cancelled = "cancelled"
    completed = "completed"
    no_show = "no_show"

    def __str__(self) -> str:
        return self.value
