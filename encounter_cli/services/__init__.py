"""Every business rule, as plain functions over a session. No Typer, Rich or HTTP here.

Services flush when they need an id and never commit: the caller owns the
transaction (`Database.run`).
"""

from encounter_cli.services.appointments import (
    AppointmentFilter,
    appointment_filter,
    book_appointment,
    cancel_appointment,
    get_appointment,
    list_appointments,
    record_outcome,
    reschedule_appointment,
)
from encounter_cli.services.common import Listing
from encounter_cli.services.doctors import (
    ActivationResult,
    add_doctor,
    get_doctor,
    list_doctors,
    set_doctor_active,
)
from encounter_cli.services.hours import HoursReport, get_hours, set_hours, weeks_of
from encounter_cli.services.patients import add_patient, get_patient, list_patients, update_patient
from encounter_cli.services.time_off import (
    TimeOffAdded,
    add_time_off,
    list_time_off,
    remove_time_off,
    time_off_between,
)

__all__ = [
    "ActivationResult",
    "HoursReport",
    "TimeOffAdded",
    "add_time_off",
    "get_hours",
    "list_time_off",
    "record_outcome",
    "remove_time_off",
    "reschedule_appointment",
    "set_hours",
    "time_off_between",
    "weeks_of",
    "AppointmentFilter",
    "appointment_filter",
    "Listing",
    "add_doctor",
    "add_patient",
    "book_appointment",
    "cancel_appointment",
    "get_appointment",
    "get_doctor",
    "get_patient",
    "list_appointments",
    "list_doctors",
    "list_patients",
    "set_doctor_active",
    "update_patient",
]
