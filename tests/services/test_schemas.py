"""Input models (no database): every field rule becomes `InvalidInput` naming the field."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from encounter_cli import schemas
from encounter_cli.errors import InvalidInput

UTC = timezone.utc
PATIENT = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"}
DOCTOR = {"full_name": "Dr. Grace Hopper", "specialization": "Cardiology"}
APPOINTMENT = {
    "patient_id": 1,
    "doctor_id": 1,
    "start_time": datetime(2030, 6, 10, 13, 0, tzinfo=UTC),
    "duration_minutes": 30,
}


def invalid(model, data, field: str) -> InvalidInput:
    """Parse `data`, expect InvalidInput for `field`, return it."""
    with pytest.raises(InvalidInput) as caught:
        schemas.parse(model, data)
    assert caught.value.field == field, caught.value.message
    assert caught.value.kind == "invalid"
    assert caught.value.details["field"] == field
    return caught.value


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ada", "Ada"),
        ("  Ada  ", "Ada"),
        ("\tAda\n", "Ada"),  # trimming removes surrounding whitespace, including line breaks
        ("A", "A"),
        ("a" * 100, "a" * 100),
        ("  " + "b" * 100 + "  ", "b" * 100),  # the limit applies after trimming
        ("Zoë", "Zoë"),
        ("李", "李"),
        ("😀" * 100, "😀" * 100),  # 100 characters, not bytes
        ("Mary Ann O'Neil-Smith", "Mary Ann O'Neil-Smith"),
    ],
)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_patient_names_are_trimmed_and_kept(field, given, stored):
    assert getattr(schemas.parse(schemas.PatientCreate, {**PATIENT, field: given}), field) == stored


@pytest.mark.parametrize(
    ("given", "rule_part"),
    [
        ("", "1 to 100 characters"),
        ("   ", "1 to 100 characters"),
        ("a" * 101, "1 to 100 characters"),
        ("😀" * 101, "1 to 100 characters"),
        ("Ada\nLovelace", "control characters"),
        ("Ada\tLovelace", "control characters"),
        ("Ada\rLovelace", "control characters"),
        ("Ada\x00", "control characters"),
        ("Ada\x1b[31m", "control characters"),
        ("Ada\x7f", "control characters"),
        ("Ada\x85Lovelace", "control characters"),  # NEL, a C1 control
    ],
)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_patient_names_breaking_the_rules_are_invalid(field, given, rule_part):
    error = invalid(schemas.PatientCreate, {**PATIENT, field: given}, field)
    assert rule_part in error.rule


@pytest.mark.parametrize("field", ["full_name", "specialization"])
@pytest.mark.parametrize("given", ["", "  ", "x" * 101, "Heart\nSurgery"])
def test_doctor_names_follow_the_name_rules(field, given):
    invalid(schemas.DoctorCreate, {**DOCTOR, field: given}, field)


@pytest.mark.parametrize("field", ["full_name", "specialization"])
def test_doctor_names_are_trimmed(field):
    assert getattr(schemas.parse(schemas.DoctorCreate, {**DOCTOR, field: "  Neuro  "}), field) == "Neuro"


def test_doctor_is_active_by_default_and_can_start_inactive():
    assert schemas.parse(schemas.DoctorCreate, DOCTOR).is_active is True
    assert schemas.parse(schemas.DoctorCreate, {**DOCTOR, "is_active": False}).is_active is False


# --- email -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ada@example.org", "ada@example.org"),
        ("Ada@X.org", "ada@x.org"),
        ("ADA@EXAMPLE.ORG", "ada@example.org"),
        ("  ada@example.org  ", "ada@example.org"),
        ("o'brien+tag@example.org", "o'brien+tag@example.org"),
        ("USER@BÜCHER.DE", "user@bücher.de"),
        ("zoe\u0308@example.org", "zo\u00eb@example.org"),  # Unicode-normalised (NFC)
    ],
)
def test_email_is_normalised_to_lower_case(given, stored):
    assert schemas.parse(schemas.PatientCreate, {**PATIENT, "email": given}).email == stored


@pytest.mark.parametrize("given", ["bob@", "bob", "@x.org", "a b@x.org", "ada@x", "ada@@x.org", ""])
def test_invalid_email_names_field_value_and_rule(given):
    error = invalid(schemas.PatientCreate, {**PATIENT, "email": given}, "email")
    assert "is not a valid email address" in error.rule
    if given:
        assert error.message.startswith(f'email: "{given}" is not a valid email address')


# --- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("5550100", "5550100"),  # 7 characters
        ("+1 (555) 010-0199", "+1 (555) 010-0199"),
        ("  555 0100  ", "555 0100"),
        ("1" * 20, "1" * 20),  # 20 characters
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_valid_phone_numbers(given, stored):
    assert schemas.parse(schemas.PatientCreate, {**PATIENT, "phone": given}).phone == stored


@pytest.mark.parametrize(
    "given",
    [
        "555010",  # 6 characters
        "1" * 21,  # 21 characters
        "555-0100 ext 12",
        "phone-me",
        "-------",  # allowed characters but no digit
        "(+) ( )-",
        "555\n0100",
        "555.010.0199",
        "５５５０１００",  # full-width digits are not ASCII digits
    ],
)
def test_invalid_phone_numbers(given):
    error = invalid(schemas.PatientCreate, {**PATIENT, "phone": given}, "phone")
    assert "7 to 20 characters" in error.rule


# --- date of birth -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1990-02-28", date(1990, 2, 28)),
        (" 1990-02-28 ", date(1990, 2, 28)),
        (date(1815, 12, 10), date(1815, 12, 10)),
        ("", None),
        (None, None),
    ],
)
def test_valid_dates_of_birth(given, stored):
    assert schemas.parse(schemas.PatientCreate, {**PATIENT, "date_of_birth": given}).date_of_birth == stored


def test_date_of_birth_today_is_allowed():
    today = date.today()
    assert schemas.parse(schemas.PatientCreate, {**PATIENT, "date_of_birth": today.isoformat()}).date_of_birth == today


@pytest.mark.parametrize("days_ahead", [1, 365 * 10])
def test_date_of_birth_in_the_future_is_invalid(days_ahead):
    future = (date.today() + timedelta(days=days_ahead)).isoformat()
    error = invalid(schemas.PatientCreate, {**PATIENT, "date_of_birth": future}, "date_of_birth")
    assert error.rule == "must not be in the future"


@pytest.mark.parametrize("given", ["1990-02-30", "10/06/1990", "yesterday", "1990-2-3x"])
def test_date_of_birth_must_be_a_date(given):
    invalid(schemas.PatientCreate, {**PATIENT, "date_of_birth": given}, "date_of_birth")


# --- generic rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["first_name", "last_name", "email"])
def test_required_patient_fields(missing):
    data = {k: v for k, v in PATIENT.items() if k != missing}
    error = invalid(schemas.PatientCreate, data, missing)
    assert error.rule == "is required"
    assert error.message == f"{missing}: is required"


@pytest.mark.parametrize("model,data", [(schemas.PatientCreate, PATIENT), (schemas.DoctorCreate, DOCTOR)])
def test_unknown_fields_are_refused_not_dropped(model, data):
    error = invalid(model, {**data, "nickname": "Countess"}, "nickname")
    assert error.rule == "is not a known field"


@pytest.mark.parametrize("given", [0, -1, "abc", 1.5])
@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (schemas.PatientCreate, PATIENT, "id"),
        (schemas.DoctorCreate, DOCTOR, "id"),
        (schemas.AppointmentCreate, APPOINTMENT, "id"),
        (schemas.AppointmentCreate, APPOINTMENT, "patient_id"),
        (schemas.AppointmentCreate, APPOINTMENT, "doctor_id"),
    ],
)
def test_ids_must_be_positive_whole_numbers(model, data, field, given):
    invalid(model, {**data, field: given}, field)


def test_explicit_ids_are_kept():
    assert schemas.parse(schemas.PatientCreate, {**PATIENT, "id": 42}).id == 42
    assert schemas.parse(schemas.PatientCreate, PATIENT).id is None


# --- appointments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "ok"), [(14, False), (15, True), (30, True), (180, True), (181, False), (0, False), (-30, False)]
)
def test_duration_bounds(minutes, ok):
    data = {**APPOINTMENT, "duration_minutes": minutes}
    if ok:
        assert schemas.parse(schemas.AppointmentCreate, data).duration_minutes == minutes
    else:
        error = invalid(schemas.AppointmentCreate, data, "duration_minutes")
        assert error.rule == "must be between 15 and 180 minutes"


def test_duration_must_be_whole_minutes():
    invalid(schemas.AppointmentCreate, {**APPOINTMENT, "duration_minutes": 30.5}, "duration_minutes")


@pytest.mark.parametrize(
    ("start", "rule_part"),
    [
        (datetime(2030, 6, 10, 13, 0), "must carry a UTC offset"),
        (datetime(2030, 6, 10, 13, 0, 30, tzinfo=UTC), "whole minute"),
        (datetime(2030, 6, 10, 13, 0, 0, 1, tzinfo=UTC), "whole minute"),
        ("2030-06-10T13:00:30+00:00", "whole minute"),
    ],
)
def test_start_time_must_be_aware_and_whole_minutes(start, rule_part):
    error = invalid(schemas.AppointmentCreate, {**APPOINTMENT, "start_time": start}, "start_time")
    assert rule_part in error.rule


def test_start_time_with_offset_is_accepted_unchanged():
    start = datetime(2030, 6, 10, 9, 0, tzinfo=timezone(timedelta(hours=-4)))
    parsed = schemas.parse(schemas.AppointmentCreate, {**APPOINTMENT, "start_time": start})
    assert parsed.start_time == datetime(2030, 6, 10, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "stored"), [(None, None), ("", None), ("  ", None), ("x" * 500, "x" * 500), ("😀" * 500, "😀" * 500)]
)
def test_reason_is_optional_up_to_500_characters(reason, stored):
    assert schemas.parse(schemas.AppointmentCreate, {**APPOINTMENT, "reason": reason}).reason == stored
    assert schemas.parse(schemas.Cancellation, {"reason": reason}).reason == stored


def test_reason_longer_than_500_characters_is_invalid():
    error = invalid(schemas.AppointmentCreate, {**APPOINTMENT, "reason": "x" * 501}, "reason")
    assert error.rule == "must be at most 500 characters"
    invalid(schemas.Cancellation, {"reason": "x" * 501}, "reason")


def test_long_offending_values_are_clipped_in_the_message():
    error = invalid(schemas.PatientCreate, {**PATIENT, "first_name": "y" * 10_000}, "first_name")
    assert len(error.message) < 200
    assert len(error.details["value"]) <= 80


# --- partial updates ---------------------------------------------------------------------------


def test_patient_update_remembers_which_fields_were_given():
    update = schemas.parse(schemas.PatientUpdate, {"phone": "", "last_name": " Byron "})
    assert update.model_fields_set == {"phone", "last_name"}
    assert update.phone is None
    assert update.last_name == "Byron"


@pytest.mark.parametrize(
    ("field", "given"),
    [("first_name", ""), ("last_name", "x" * 101), ("email", "bob@"), ("phone", "12"), ("date_of_birth", "2999-01-01")],
)
def test_patient_update_applies_the_same_rules(field, given):
    invalid(schemas.PatientUpdate, {field: given}, field)


def _reference_email(value: str) -> str:
    """email-validator's own verdict, which the fast path for plain ASCII addresses must match."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return "invalid"


def _our_email(value: str) -> str:
    try:
        return schemas.parse(schemas.PatientCreate, {"first_name": "A", "last_name": "B", "email": value}).email
    except InvalidInput:
        return "invalid"


def _email_samples() -> list[str]:
    import random

    rng = random.Random(20261127)
    alphabet = "aZ09.!#$%&'*+/=?^_`{|}~-@ \"(),:;<>[\\]éß"
    domains = ["example.org", "B.CO", "x.y.museum", "localhost", "b", "ex ample.org", "-a.org", "münchen.de",
               "xn--mnchen-3ya.de", "a@b.org", "b..org", "b.org.", "[1.2.3.4]", "b.invalid", "b.test"]  # fmt: skip
    samples = ["x" * 64 + "@b.org", "x" * 65 + "@b.org", "a@" + "b" * 250 + ".org", '"a b"@c.org', " A@B.ORG "]
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
        samples.append(f"{local}@{rng.choice(domains)}")
    return samples


def test_fast_email_path_agrees_with_email_validator():
    mismatches = [
        (v, _our_email(v), _reference_email(v)) for v in _email_samples() if _our_email(v) != _reference_email(v)
    ]
    assert mismatches == []


def test_date_of_birth_is_checked_against_the_clinic_date_given():
    """Near midnight the clinic's date and the machine's differ: the caller's `today` decides."""
    values = {"first_name": "A", "last_name": "B", "email": "a@example.org", "date_of_birth": "2030-06-11"}
    assert schemas.parse(schemas.PatientCreate, values, today=date(2030, 6, 11)).date_of_birth == date(2030, 6, 11)
    with pytest.raises(InvalidInput) as caught:
        schemas.parse(schemas.PatientCreate, values, today=date(2030, 6, 10))
    assert caught.value.field == "date_of_birth"


@pytest.mark.parametrize(
    ("reason", "accepted"),
    [("two\nlines\r\nand a\ttab", True), ("nul\x00byte", False), ("bidi \u202eevil", False), ("bell\x07", False)],
)
def test_reason_allows_line_breaks_but_no_other_control_characters(reason, accepted):
    values = {"patient_id": 1, "doctor_id": 1, "start_time": datetime(2031, 1, 1, 9, tzinfo=timezone.utc),
              "duration_minutes": 30, "reason": reason}  # fmt: skip
    if accepted:
        assert schemas.parse(schemas.AppointmentCreate, values).reason == reason
    else:
        with pytest.raises(InvalidInput) as caught:
            schemas.parse(schemas.AppointmentCreate, values)
        assert caught.value.field == "reason"


def test_the_cli_and_the_schemas_agree_on_the_largest_id():
    from encounter_cli.cli import options

    assert options.MAX_ID == schemas.MAX_ID


# --- hostile-review regressions ----------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["2000-W01-1", "20000101", "2000-001", "２０００-01-01", "2000-01-01T00:00", 946684800, 0]
)
def test_date_of_birth_is_only_yyyy_mm_dd(given):
    """Python 3.11's date.fromisoformat reads week and compact forms; the rule must not depend on the version."""
    error = invalid(schemas.PatientCreate, {**PATIENT, "date_of_birth": given}, "date_of_birth")
    assert error.rule == "is not a date (YYYY-MM-DD)"


INVISIBLE = ["\u200b", "\ufeff", "\u00ad", "\u200b\u200d\u2060", " \u200b ", "\u3164", "\u2800", "\u034f", "\u0301"]


@pytest.mark.parametrize("given", INVISIBLE)
@pytest.mark.parametrize(("model", "base", "field"), [
    (schemas.PatientCreate, PATIENT, "first_name"),
    (schemas.PatientCreate, PATIENT, "last_name"),
    (schemas.DoctorCreate, DOCTOR, "full_name"),
    (schemas.DoctorCreate, DOCTOR, "specialization"),
])  # fmt: skip
def test_names_need_a_visible_character(model, base, field, given):
    error = invalid(model, {**base, field: given}, field)
    assert error.rule == "must contain a visible character"


@pytest.mark.parametrize("given", ["Zoë", "\u200bAda", "李", "José\u0301", "O'Brien-Smith", "١٢"])
def test_names_with_a_visible_character_are_kept(given):
    assert schemas.parse(schemas.DoctorCreate, {**DOCTOR, "full_name": given}).full_name == given


@pytest.mark.parametrize(
    "start",
    [
        datetime(9999, 1, 1, 0, 0, tzinfo=UTC),
        datetime(9998, 12, 31, 22, 0, tzinfo=UTC),  # its end could reach 9999
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # year 0 in UTC
    ],
)
def test_start_times_outside_years_1_to_9998_are_invalid(start):
    error = invalid(schemas.AppointmentCreate, {**APPOINTMENT, "start_time": start}, "start_time")
    assert "outside the supported years" in error.rule


def test_the_control_character_patterns_are_exactly_unicode_cc_zl_zp_cs_and_bidi_controls():
    """The fast patterns stand for unicodedata's categories (Cs: lone surrogates): checked over every code point."""
    import sys
    import unicodedata

    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        control = unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or ch in bidi
        assert bool(schemas.CONTROL_CHARACTERS.search(ch)) == control, hex(code)
        assert bool(schemas.CONTROLS_IN_TEXT.search(ch)) == (control and ch not in "\t\n\r"), hex(code)
