"""Pydantic input models: the boundary every front end builds from plain values.

`parse(Model, data)` turns the first validation failure into `InvalidInput`
naming the field, the offending value and the rule it breaks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)

from encounter_cli.clinic_time import (
    NOT_A_TIME,
    OUTSIDE_YEARS,
    WHOLE_MINUTE,
    outside_supported_years,
    parse_date,
    read_iso_time,
)
from encounter_cli.domain import CONTROL_CODES, LINE_BREAKS_AND_TABS, MAX_DURATION, MAX_ID, MIN_DURATION
from encounter_cli.errors import InvalidInput

NOT_A_DATE = "is not a date (YYYY-MM-DD)"
PHONE_PATTERN = re.compile(r"[0-9 +\-()]{7,20}")
# RFC 5322 dot-atom with ASCII atext: what email-validator accepts unquoted and leaves unchanged.
ASCII_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _character_class(codes: Iterable[int]) -> re.Pattern[str]:
    """One character class of `codes`, written as ranges: 2,000 single characters took ms to compile."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in ranges) + "]")


# domain.CONTROL_CODES as one character class each: names hold none, free text keeps its line breaks and tabs.
CONTROL_CHARACTERS = _character_class(CONTROL_CODES)
CONTROLS_IN_TEXT = _character_class(code for code in CONTROL_CODES if chr(code) not in LINE_BREAKS_AND_TABS)
# A name needs one character that shows: not a space, format character (U+200B, U+FEFF, U+00AD),
# lone combining mark, unassigned or private code point, nor a letter or symbol that draws as blank.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"}
BLANK_GLYPHS = set("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers, Braille blank


def _name(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= 100:
        raise ValueError("must be 1 to 100 characters after trimming spaces")
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters such as line breaks")
    if not (value.isascii() or any(_visible(ch) for ch in value)):  # trimmed printable ASCII always shows
        raise ValueError("must contain a visible character")
    return value


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) not in INVISIBLE_CATEGORIES and ch not in BLANK_GLYPHS


def _email(value: str) -> str:
    """email-validator's normalised form, lower-cased so uniqueness is case-insensitive everywhere."""
    value = value.strip()
    local, _, domain = value.rpartition("@")
    if value.isascii() and len(local) <= 64 and len(value) <= 254 and ASCII_DOT_ATOM.fullmatch(local):
        # Plain ASCII local part: only the domain needs email-validator, and domains repeat (bulk imports).
        return f"{local}@{_ascii_domain(domain)}".lower()
    return _validated(value).normalized.lower()


def _validated(value: str):
    try:
        return validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address ({exc})") from None


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    return _validated(f"x@{domain}").domain


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not PHONE_PATTERN.fullmatch(value) or not any(ch.isdigit() for ch in value):
        raise ValueError("must be 7 to 20 characters of digits, spaces and + - ( )")
    return value


def _iso_date(value: Any) -> Any:
    """YYYY-MM-DD text or a date; no week dates, compact forms, datetimes or Unix timestamps."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    if not isinstance(value, str):
        raise ValueError(NOT_A_DATE)
    try:
        return parse_date(value.strip())
    except ValueError:  # the right shape with impossible values, such as month 13
        raise ValueError(NOT_A_DATE) from None


def _not_future(value: date | None, info: ValidationInfo) -> date | None:
    """Not after today in the clinic: callers pass `today` (the machine's date is only a fallback)."""
    today = (info.context or {}).get("today") or date.today()
    if value is not None and value > today:
        raise ValueError("must not be in the future")
    return value


def _iso_time(value: Any) -> Any:
    """A datetime, or time text as the command line reads it (`read_iso_time`): never a number."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(NOT_A_TIME)
    try:
        return read_iso_time(value.strip())
    except ValueError:
        raise ValueError(NOT_A_TIME) from None


def _bookable_time(value: datetime, info: ValidationInfo) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset")
    if value.second or value.microsecond:
        raise ValueError(WHOLE_MINUTE)
    if outside_supported_years(value, (info.context or {}).get("zone") or value.tzinfo):
        raise ValueError(OUTSIDE_YEARS)
    return value


def _duration(value: int) -> int:
    if not MIN_DURATION <= value <= MAX_DURATION:
        raise ValueError(f"must be between {MIN_DURATION} and {MAX_DURATION} minutes")
    return value


def _optional_text(limit: int):
    def check(value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        if CONTROLS_IN_TEXT.search(value):
            raise ValueError("must not contain control characters other than line breaks and tabs")
        return value

    return check


def _positive(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"must be a whole number from 1 to {MAX_ID}")
    return value


# Each type's JSON Schema (WithJsonSchema) documents its rules for API clients; the validators enforce them.
NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 100}
EMAIL_SCHEMA = {"type": "string", "format": "email", "maxLength": 254}
Name = Annotated[str, AfterValidator(_name), WithJsonSchema(NAME_SCHEMA)]
Email = Annotated[str, AfterValidator(_email), WithJsonSchema(EMAIL_SCHEMA)]
Phone = Annotated[
    str | None,
    AfterValidator(_phone),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": "^([0-9 +()-]{7,20})?$"}, {"type": "null"}]}),  # "": none
]
BirthDate = Annotated[
    date | None,
    BeforeValidator(_iso_date),
    AfterValidator(_not_future),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"const": ""}, {"type": "null"}]}),  # "": none
]
Id = Annotated[int, AfterValidator(_positive), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID})]
Reason = Annotated[
    str | None,
    AfterValidator(_optional_text(500)),
    WithJsonSchema({"anyOf": [{"type": "string", "maxLength": 500}, {"type": "null"}]}),
]
StartTime = Annotated[
    datetime,
    BeforeValidator(_iso_time),
    AfterValidator(_bookable_time),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "With an offset; whole minutes."}),
]
Duration = Annotated[
    int,
    AfterValidator(_duration),
    WithJsonSchema({"type": "integer", "minimum": MIN_DURATION, "maximum": MAX_DURATION}),
]


def _example(schema: Mapping[str, Any] | None = None, **values: Any) -> ConfigDict:
    """An input model's settings with an example (and more JSON Schema) for the API's documentation."""
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [values], **(schema or {})})


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientCreate(Input):
    model_config = _example(first_name="Ada", last_name="Lovelace", email="ada@example.org", date_of_birth="1815-12-10")
    id: Id | None = None
    first_name: Name
    last_name: Name
    email: Email
    phone: Phone = None
    date_of_birth: BirthDate = None


def _given(value: Any) -> Any:
    if value is None:
        raise ValueError("is required and cannot be cleared")
    return value


Kept = BeforeValidator(_given)  # a field an update may change but not clear (not checked when left out)
KeptName = Annotated[Name | None, Kept, WithJsonSchema(NAME_SCHEMA)]  # documented as never null
KeptEmail = Annotated[Email | None, Kept, WithJsonSchema(EMAIL_SCHEMA)]


class PatientUpdate(Input):
    """Only the fields given are changed; an empty phone or date of birth clears it."""

    model_config = _example({"minProperties": 1}, phone="+44 20 7946 0000")

    first_name: KeptName = None
    last_name: KeptName = None
    email: KeptEmail = None
    phone: Phone = None
    date_of_birth: BirthDate = None


class DoctorCreate(Input):
    model_config = _example(full_name="Gregory House", specialization="Diagnostics")
    id: Id | None = None
    full_name: Name
    specialization: Name
    is_active: bool = True


class AppointmentCreate(Input):
    model_config = _example(patient_id=1, doctor_id=1, start_time="2031-12-01T09:30:00+01:00", duration_minutes=30)
    id: Id | None = None
    patient_id: Id
    doctor_id: Id
    start_time: StartTime
    duration_minutes: Duration
    reason: Reason = None


class Reschedule(Input):
    """A new start for a booked appointment; the duration and doctor stay unless given."""

    model_config = _example(start_time="2031-12-02T10:00:00+01:00", duration_minutes=45)
    start_time: StartTime
    duration_minutes: Duration | None = None
    doctor_id: Id | None = None


class TimeOffCreate(Input):
    """A doctor's time off, [start_time, end_time)."""

    model_config = _example(
        start_time="2031-12-24T00:00:00+01:00", end_time="2031-12-27T00:00:00+01:00", reason="holidays"
    )
    start_time: StartTime
    end_time: StartTime
    reason: Reason = None


class HoursChange(Input):
    """A doctor's new weekly hours, in the grammar of `doctor hours --set` (one group per item)."""

    model_config = _example(hours=["mon-fri 09:00-12:30,13:30-17:00", "sat 09:00-12:00"])
    hours: Annotated[list[str], Field(min_length=1, max_length=7)]


class ApiTokenName(Input):
    """An API token's name, as `add` stores it and `revoke` looks it up: trimmed."""

    name: Name


class Cancellation(Input):
    model_config = _example(reason="the patient called in sick")
    reason: Reason = Field(default=None)


M = TypeVar("M", bound=BaseModel)


def parse(
    model: type[M],
    data: Mapping[str, Any],
    today: date | None = None,
    zone: tzinfo | None = None,
    *,
    strict: bool = False,
) -> M:
    """Validate plain values into `model`, raising `InvalidInput` for the first broken rule.

    `today` is the clinic's calendar date, for rules such as "date of birth not in the future";
    `zone` the clinic's zone, in which times must be showable too. `strict` takes values as JSON
    types them (the API): "30" is no number and "false" no boolean; import reads text and converts it.
    """
    try:
        return model.model_validate(data, strict=strict, context={"today": today, "zone": zone})
    except ValidationError as exc:
        raise invalid_input(exc.errors(include_url=False)[0]) from None


def invalid_input(error: Mapping[str, Any]) -> InvalidInput:
    """One Pydantic error (ours, or a web framework's) as the rule it breaks, naming field and value."""
    field = ".".join(str(part) for part in error["loc"]) or "input"
    value = None if error["type"] == "missing" else error.get("input")
    return InvalidInput(field, value, _rule(error))


def _rule(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    message = error["msg"]
    return message[:1].lower() + message[1:]
