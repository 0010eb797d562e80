"""Words and limits of the clinic's domain, shared by every layer.

Free of SQLAlchemy and Pydantic on purpose: the command line's `--help` uses
these too, and must stay fast.
"""

from __future__ import annotations

from enum import Enum

MAX_ID = 2**31 - 1  # id columns are INTEGER on every database
MIN_DURATION, MAX_DURATION = 15, 180  # minutes; no appointment is longer than MAX_DURATION


class AppointmentStatus(str, Enum):
    """Where an appointment stands. Only `booked` holds a doctor's time."""

    booked = "booked"
    cancelled = "cancelled"
    completed = "completed"
    no_show = "no_show"

    def __str__(self) -> str:
        return self.value
