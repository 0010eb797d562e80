"""Patient services on SQLite and MySQL/MariaDB: add, get, update, list: the unique-email rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from encounter_cli import schemas, services
from encounter_cli.errors import Conflict, InvalidInput, NotFound
from encounter_cli.services import rules
from tests.helpers import NOW, count, fetch, run_concurrently

BASE = {"first_name": "Ada", "last_name": "Lovelace"}


def add(database, **fields):
    data = schemas.parse(schemas.PatientCreate, {**BASE, **fields})
    return database.run(lambda s: services.add_patient(s, data, now=NOW))


def update(database, patient_id, now=NOW, **fields):
    changes = schemas.parse(schemas.PatientUpdate, fields)
    return database.run(lambda s: services.update_patient(s, patient_id, changes, now=now))


def search(database, text=None, **kwargs):
    return database.run(lambda s: [p.id for p in services.list_patients(s, text, **kwargs)], write=False)


# --- add ---------------------------------------------------------------------------------------


def test_add_stores_every_field(database):
    patient = add(
        database,
        first_name="  Ada ",
        last_name=" Lovelace  ",
        email="Ada@X.org",
        phone=" +44 (20) 7946-0958 ",
        date_of_birth="1815-12-10",
    )
    stored = fetch(database, "Patient", patient.id)
    assert (stored.first_name, stored.last_name) == ("Ada", "Lovelace")
    assert stored.email == "ada@x.org"
    assert stored.phone == "+44 (20) 7946-0958"
    assert stored.date_of_birth == date(1815, 12, 10)
    assert stored.created_at == NOW and stored.updated_at == NOW
    assert stored.created_at.utcoffset() == timedelta(0)


def test_add_without_optional_fields(database):
    patient = add(database, email="ada@example.org")
    stored = fetch(database, "Patient", patient.id)
    assert stored.phone is None
    assert stored.date_of_birth is None


def test_ids_are_assigned_in_order(database):
    first, second = add(database, email="a@example.org"), add(database, email="b@example.org")
    assert second.id > first.id >= 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ada@x.org", "ada@x.org"),
        ("Ada@X.org", "ada@x.org"),
        ("ada@x.org", "ADA@X.ORG"),
        ("ada@x.org", "  Ada@x.Org "),
        ("zoe\u0308@x.org", "zo\u00eb@x.org"),  # same address, different Unicode composition
        ("ZOË@x.org", "zoë@x.org"),
    ],
)
def test_duplicate_email_is_a_conflict_case_insensitively(database, first, second):
    original = add(database, email=first)
    with pytest.raises(Conflict) as caught:
        add(database, first_name="Other", email=second)
    assert caught.value.field == "email"
    assert caught.value.kind == "conflict"
    assert original.email in caught.value.message
    assert count(database, "Patient") == 1


@pytest.mark.parametrize(("first", "second"), [("zoe@x.org", "zoë@x.org"), ("jose@x.org", "josé@x.org")])
def test_emails_differing_in_accents_are_different_patients(database, first, second):
    """MySQL's default *_ci collations would equate é and e; the email column must not."""
    add(database, email=first)
    add(database, email=second)
    assert sorted(search(database)) == [1, 2]
    assert {fetch(database, "Patient", i).email for i in (1, 2)} == {first, second}


def test_unique_index_backs_up_the_email_check(database, monkeypatch):
    """If another writer slips in between check and insert, the UNIQUE index still yields a Conflict."""
    add(database, email="ada@x.org")
    real_exists = rules.exists
    calls = []

    def blind_first_check(*args, **kwargs):
        calls.append(kwargs)
        return False if len(calls) == 1 else real_exists(*args, **kwargs)

    monkeypatch.setattr(rules, "exists", blind_first_check)
    with pytest.raises(Conflict) as caught:
        add(database, email="ADA@x.org")
    assert caught.value.field == "email"
    assert count(database, "Patient") == 1


def test_explicit_id_is_kept_and_a_taken_id_is_a_conflict(database):
    assert add(database, id=42, email="a@x.org").id == 42
    with pytest.raises(Conflict) as caught:
        add(database, id=42, email="b@x.org")
    assert caught.value.field == "id"
    assert count(database, "Patient") == 1
    assert add(database, email="c@x.org").id > 42


VERBATIM_NAMES = [
    "Robert'); DROP TABLE patients;--",
    "Zoë",
    "zoe\u0308",  # decomposed form is kept as typed
    "李",
    "😀🩺",
    "O'Brien",
    '"quoted"',
    "back\\slash",
    "100%_off",
    "Ωμέγα",
    "😀" * 100,
    "Ñ" * 100,
]


@pytest.mark.parametrize("name", VERBATIM_NAMES)
def test_names_are_stored_and_read_back_verbatim(database, name):
    patient = add(database, first_name=name, last_name=name, email="x@example.org")
    stored = fetch(database, "Patient", patient.id)
    assert stored.first_name == name
    assert stored.last_name == name
    assert count(database, "Patient") == 1  # the table is still there


def test_email_with_quote_is_stored_verbatim(database):
    patient = add(database, email="o'brien+tag@example.org")
    assert fetch(database, "Patient", patient.id).email == "o'brien+tag@example.org"
    assert search(database, "o'brien") == [patient.id]


def test_add_rolls_back_completely_on_conflict(database):
    add(database, email="ada@x.org")

    def two_adds(s):
        services.add_patient(s, schemas.parse(schemas.PatientCreate, {**BASE, "email": "new@x.org"}))
        services.add_patient(s, schemas.parse(schemas.PatientCreate, {**BASE, "email": "ADA@x.org"}))

    with pytest.raises(Conflict):
        database.run(two_adds)
    assert count(database, "Patient") == 1  # new@x.org was not written either


def test_concurrent_adds_of_one_email_store_it_once(database):
    """The unique-email rule under concurrency: one writer wins, every other one gets a Conflict on email.

    On MySQL the email check is not locked, so losers reach the UNIQUE index; several
    rounds make that race certain.
    """
    spellings = [
        "race{}@x.org",
        "RACE{}@x.org",
        "Race{}@X.org",
        "race{}@X.ORG",
        " race{}@x.org ",
        "RACE{}@X.ORG",
        "rAcE{}@x.org",
        "RaCe{}@x.OrG",
    ]
    rounds = 4
    for round_ in range(rounds):

        def work(i, round_=round_):
            data = schemas.parse(schemas.PatientCreate, {**BASE, "email": spellings[i].format(round_)})
            return database.run(lambda s: services.add_patient(s, data)).id

        results = run_concurrently(len(spellings), work)
        winners = [r for r in results if isinstance(r, int)]
        losers = [r for r in results if not isinstance(r, int)]
        assert len(winners) == 1, results
        assert all(isinstance(r, Conflict) and r.field == "email" for r in losers), results
    assert count(database, "Patient") == rounds


# --- get ---------------------------------------------------------------------------------------


def test_get_patient(database):
    patient = add(database, email="ada@x.org")
    got = database.run(lambda s: services.get_patient(s, patient.id), write=False)
    assert (got.id, got.email) == (patient.id, "ada@x.org")


@pytest.mark.parametrize("patient_id", [1, 999, 2**31 - 1])
def test_get_missing_patient_is_not_found(database, patient_id):
    with pytest.raises(NotFound) as caught:
        database.run(lambda s: services.get_patient(s, patient_id), write=False)
    assert caught.value.field == "id"
    assert caught.value.entity == "patient"
    assert caught.value.details["id"] == patient_id


# --- update ------------------------------------------------------------------------------------


FULL = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@x.org",
    "phone": "5550100",
    "date_of_birth": "1815-12-10",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"first_name": "  Augusta "}, {"first_name": "Augusta"}),
        ({"last_name": "King"}, {"last_name": "King"}),
        ({"email": "Countess@Lovelace.ORG"}, {"email": "countess@lovelace.org"}),
        ({"phone": "+44 20 7946 0958"}, {"phone": "+44 20 7946 0958"}),
        ({"phone": ""}, {"phone": None}),
        ({"phone": "   "}, {"phone": None}),
        ({"date_of_birth": "1816-01-01"}, {"date_of_birth": date(1816, 1, 1)}),
        ({"date_of_birth": ""}, {"date_of_birth": None}),
        ({"first_name": "Zoë", "last_name": "李"}, {"first_name": "Zoë", "last_name": "李"}),
    ],
)
def test_update_changes_only_the_given_fields(database, changes, expected):
    patient = add(database, **FULL)
    later = NOW + timedelta(days=1)
    update(database, patient.id, now=later, **changes)
    stored = fetch(database, "Patient", patient.id)
    before = schemas.parse(schemas.PatientCreate, FULL).model_dump(exclude={"id"})
    after = {field: getattr(stored, field) for field in before}
    assert after == {**before, **expected}
    assert stored.updated_at == later
    assert stored.created_at == NOW


def test_update_returns_the_updated_patient(database):
    patient = add(database, **FULL)
    updated = update(database, patient.id, last_name="Byron")
    assert (updated.id, updated.last_name, updated.first_name) == (patient.id, "Byron", "Ada")


def test_update_to_another_patients_email_is_a_conflict(database):
    ada = add(database, **FULL)
    add(database, first_name="Charles", last_name="Babbage", email="charles@x.org")
    with pytest.raises(Conflict) as caught:
        update(database, ada.id, first_name="Changed", email="CHARLES@x.org")
    assert caught.value.field == "email"
    stored = fetch(database, "Patient", ada.id)
    assert (stored.email, stored.first_name) == ("ada@x.org", "Ada")  # nothing half-applied


@pytest.mark.parametrize("same", ["ada@x.org", "ADA@X.ORG", " Ada@x.org "])
def test_update_to_own_email_in_other_case_is_fine(database, same):
    patient = add(database, **FULL)
    update(database, patient.id, email=same, last_name="King")
    stored = fetch(database, "Patient", patient.id)
    assert (stored.email, stored.last_name) == ("ada@x.org", "King")


def test_update_with_no_fields_is_invalid(database):
    patient = add(database, **FULL)
    with pytest.raises(InvalidInput) as caught:
        update(database, patient.id)
    assert caught.value.field == "update"


def test_update_missing_patient_is_not_found(database):
    with pytest.raises(NotFound) as caught:
        update(database, 77, first_name="Nobody")
    assert caught.value.field == "id"


def test_update_email_race_is_caught_by_the_unique_index(database, monkeypatch):
    ada = add(database, **FULL)
    add(database, email="taken@x.org")
    monkeypatch.setattr(rules, "exists", lambda *a, **k: False)
    with pytest.raises(Conflict) as caught:
        update(database, ada.id, email="taken@x.org")
    assert caught.value.field == "email"
    assert fetch(database, "Patient", ada.id).email == "ada@x.org"


# --- list --------------------------------------------------------------------------------------


@pytest.fixture
def people(database):
    rows = [
        ("Ada", "Lovelace", "ada@example.org"),
        ("Charles", "Babbage", "charles@engine.org"),
        ("Grace", "Hopper", "grace_h@navy.mil"),
        ("Alan", "Turing", "alan@bletchley.uk"),
        ("100%", "Discount", "pct@example.org"),
        ("Under_score", "Name", "under@example.org"),
        ("Back\\slash", "Slash/Forward", "bs@example.org"),
        ("Zoë", "李", "zoe@example.org"),
        ("Robert'); DROP TABLE patients;--", "Tables", "bobby@example.org"),
    ]
    return {first: add(database, first_name=first, last_name=last, email=email).id for first, last, email in rows}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada", ["Ada"]),
        ("ADA", ["Ada"]),
        ("aDa@ExAmPlE", ["Ada"]),
        ("hopper", ["Grace"]),  # last name
        ("bletchley", ["Alan"]),  # email
        ("engine.org", ["Charles"]),
        ("%", ["100%"]),  # literal, not "anything"
        ("100%", ["100%"]),
        ("_", ["Grace", "Under_score"]),  # literal underscore (name or email), not "any one character"
        ("r_s", ["Under_score"]),
        ("d_r", []),  # as a wildcard "_" would match "Under"
        ("A_a", []),
        ("\\", ["Back\\slash"]),
        ("/", ["Back\\slash"]),
        ("//", []),
        ("'", ["Robert'); DROP TABLE patients;--"]),
        ("DROP TABLE", ["Robert'); DROP TABLE patients;--"]),
        ("李", ["Zoë"]),
        ("zoë", ["Zoë"]),
        ("nobody", []),
    ],
)
def test_search_is_literal_and_case_insensitive(database, people, text, expected):
    assert search(database, text) == sorted(people[name] for name in expected)


@pytest.mark.parametrize(("text", "stored_first_name"), [("zoë", "ZOË"), ("élodie", "Élodie"), ("łukasz", "Łukasz")])
def test_search_is_case_insensitive_beyond_ascii(database, text, stored_first_name):
    patient = add(database, first_name=stored_first_name, email="someone@example.org")
    assert search(database, text) == [patient.id]


@pytest.fixture
def callers(database):
    """Patients as the front desk looks them up: by full name, by phone, by email."""
    rows = [
        ("Ada", "Lovelace", "ada@example.org", "+1 (555) 123-4567"),
        ("Ada", "Byron", "byron@example.org", "555 987 6543"),
        ("Augusta", "Lovelace", "augusta@example.org", None),
        ("Élodie", "Ünal", "e.unal@example.org", "+33 1 23 45 67 89"),
        ("Mary", "Ann Evans", "eliot555@example.org", "020 7946 0000"),
        ("Anna", "100% Sure", "sure@example.org", "(555)-000-1234"),
    ]
    return [
        add(database, first_name=first, last_name=last, email=email, phone=phone).id
        for first, last, email, phone in rows
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada Lovelace", [1]),  # full name
        ("lovelace ada", [1]),  # either order
        ("  ADA   lovelace ", [1]),
        ("ada", [1, 2]),
        ("lovelace", [1, 3]),
        ("ada love", [1]),  # each word is part of a field
        ("ada evans", []),  # words combine with AND
        ("ann evans", [5]),  # two words in one field
        ("mary ann evans", [5]),
        ("élodie ünal", [4]),  # Unicode case on both databases
        ("ÉLODIE", [4]),
        ("lovelace example.org", [1, 3]),  # a name and the email
        ("ada@example", [1]),  # email, as before
        ("100% sure", [6]),  # literal
        ("100_ sure", []),  # "_" is no wildcard
        ("5551234567", [1]),  # phone digits, punctuation ignored
        ("555-123", [1]),
        ("(555) 123", [1]),
        ("+1 555 123 4567", [1]),
        ("555.123.4567", [1]),  # a dot typed, though phones hold none
        ("555", [1, 2, 5, 6]),  # phones with 555, and the email with 555
        ("9876543", [2]),
        ("0000", [5]),  # "555 000 1234" holds three zeros in a row, not four
        ("12 34", [1, 4, 6]),  # the digits "1234" in a row, wherever the spaces are
        ("33 1 23", [4]),
        ("12", []),  # fewer than 3 digits: no phone search, and no name or email holds "12"
        ("555 ada", []),  # not phone-like: both words must be in a name or the email
    ],
)
def test_search_by_full_name_phone_or_email(database, callers, text, expected):
    assert search(database, text) == expected


def test_list_without_search_returns_everyone_by_id(database, people):
    assert search(database) == sorted(people.values())
    assert search(database, "") == sorted(people.values())


def test_listing_limit_offset_and_total(database, people):
    ids = sorted(people.values())

    def page(limit, offset):
        def work(s):
            listing = services.list_patients(s, limit=limit, offset=offset)
            return [p.id for p in listing], listing.total()

        return database.run(work, write=False)

    assert page(3, 0) == (ids[:3], len(ids))
    assert page(3, 3) == (ids[3:6], len(ids))
    assert page(None, 7) == (ids[7:], len(ids))  # offset without limit
    assert page(5, 100) == ([], len(ids))


def test_listing_total_counts_matches_only(database, people):
    def work(s):
        listing = services.list_patients(s, "a", limit=1)
        return len(list(listing)), listing.total()

    shown, total = database.run(work, write=False)
    matching = len(search(database, "a"))
    assert (shown, total) == (1, matching)
    assert matching > 1


def test_total_then_a_long_streamed_listing(database):
    """Counting first, then streaming more than one batch, loses nothing (Listing.total's contract)."""
    model = database.models.Patient
    with database.session(write=True) as s:
        s.add_all(
            model(first_name="Bulk", last_name=str(i), email=f"bulk{i}@example.org", created_at=NOW, updated_at=NOW)
            for i in range(1500)  # more than one streaming batch
        )

    def work(s):
        listing = services.list_patients(s, "bulk")
        return listing.total(), [p.id for p in listing]

    total, ids = database.run(work, write=False)
    assert (total, ids) == (1500, list(range(1, 1501)))


@pytest.mark.parametrize(("limit", "offset"), [(None, 0), (10, 0), (5, 0), (3, 0), (3, 3), (3, 5), (3, 9), (None, 7)])
def test_a_page_tells_the_total_without_counting_unless_it_cannot(database, limit, offset):
    for n in range(5):
        add(database, email=f"p{n}@example.org")

    def page_and_total(session):
        listing = services.list_patients(session, limit=limit, offset=offset)
        return listing.total_after(len(list(listing))), listing.total()

    assert database.run(page_and_total, write=False) == (5, 5)
