"""`encounter ... import`: input formats, awkward but valid CSV, and hostile input, on SQLite and MariaDB.

Rules per row, exit codes, modes and the export/import round trip are in test_import_rules.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.helpers import error_json, json_out

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"}
ALAN = {"first_name": "Alan", "last_name": "Turing", "email": "alan@example.org"}
PATIENT_HINT = "hint: patient columns: id, first_name, last_name, email, phone, date_of_birth"


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def as_csv(rows: list[dict], fields: list[str] | None = None, newline: str = "\n") -> str:
    buffer = io.StringIO()
    fields = fields or list(dict.fromkeys(name for row in rows for name in row))
    writer = csv.DictWriter(buffer, fields, restval="", lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def as_ndjson(rows: list) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


ENCODE = {"csv": as_csv, "json": lambda rows: json.dumps(rows, ensure_ascii=False), "ndjson": as_ndjson}


def report(result) -> dict:
    """The `-o json` import report, the keys the README names."""
    body = json_out(result)
    return {key: body[key] for key in ("read", "written", "rejected")}


def rejected(result) -> list[tuple[int, str, str]]:
    return [(r["line"], r["field"], r["type"]) for r in json_out(result)["rejected"]]


def stored(cli, entity: str = "patient") -> list[dict]:
    return json_out(cli(entity, "list", "-o", "json"))


def emails(cli) -> list[str]:
    return [patient["email"] for patient in stored(cli)]


def assert_file_refused(result, message: str) -> None:
    """A whole-file error: exit 3 already checked; one clear message, no traceback, no report."""
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    error = error_json(result)
    assert (error["type"], error["exit_code"]) == ("invalid", 3)
    assert "written" not in result.stderr.replace("nothing was written", "")  # nothing claims to be stored


# --- formats --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("p.csv", "csv"), ("p.json", "json"), ("p.ndjson", "ndjson"), ("p.jsonl", "ndjson"), ("P.CSV", "csv")],
)
def test_format_comes_from_the_extension(cli, tmp_path, name, fmt):
    result = cli("patient", "import", write(tmp_path, name, ENCODE[fmt]([ADA, ALAN])), "-o", "json")
    assert report(result) == {"read": 2, "written": 2, "rejected": []}
    assert "read 2, written 2, rejected 0" in result.stderr.splitlines()
    assert [(p["id"], p["first_name"], p["email"]) for p in stored(cli)] == [
        (1, "Ada", "ada@example.org"),
        (2, "Alan", "alan@example.org"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_stdin_with_format(cli, fmt):
    result = cli("patient", "import", "-", "--format", fmt, "-o", "json", input=ENCODE[fmt]([ADA, ALAN]))
    assert report(result) == {"read": 2, "written": 2, "rejected": []}
    assert emails(cli) == ["ada@example.org", "alan@example.org"]


def test_format_option_overrides_the_extension(cli, tmp_path):
    cli("patient", "import", write(tmp_path, "patients.txt", as_ndjson([ADA])), "--format", "ndjson")
    cli("patient", "import", write(tmp_path, "looks.csv", json.dumps([ALAN])), "--format", "json")
    assert emails(cli) == ["ada@example.org", "alan@example.org"]


@pytest.mark.parametrize("source", ["-", "patients.txt"])
def test_format_that_cannot_be_told_is_a_usage_error(cli, tmp_path, source):
    if source != "-":
        source = write(tmp_path, source, as_csv([ADA]))
    result = cli("patient", "import", source, "-o", "json", input=as_csv([ADA]), expect=2)
    assert "give csv, json or ndjson" in result.stderr and "--format" in result.stderr
    assert stored(cli) == []


@pytest.mark.parametrize("name", ["missing.csv", "directory.csv"])
def test_missing_file_is_a_usage_error(cli, tmp_path, name):
    (tmp_path / "directory.csv").mkdir()
    result = cli("patient", "import", str(tmp_path / name), expect=2)
    assert "is not a readable file" in result.stderr


def test_unknown_format_is_a_usage_error(cli, tmp_path):
    cli("patient", "import", write(tmp_path, "p.csv", as_csv([ADA])), "--format", "xml", expect=2)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("header_only.csv", "first_name,last_name,email\n"),
        ("header_only_crlf.csv", b"\xef\xbb\xbffirst_name,last_name,email\r\n\r\n"),
        ("empty.json", " [ ]\n"),
        # An empty NDJSON stream is zero records: `list -o ndjson` of an empty table prints nothing.
        ("empty.ndjson", ""),
        ("blank.ndjson", "\n  \n"),
    ],
)
def test_input_without_records_imports_nothing(cli, tmp_path, name, content):
    result = cli("patient", "import", write(tmp_path, name, content), "-o", "json")
    assert report(result) == {"read": 0, "written": 0, "rejected": []}
    assert result.stderr.splitlines() == ["read 0, written 0, rejected 0"]


# --- awkward but valid CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"\xef\xbb\xbffirst_name,last_name,email\r\nAda,Lovelace,ada@example.org\r\n",
            [("Ada", "Lovelace", "ada@example.org")],
            id="bom-crlf",
        ),
        pytest.param(
            'first_name,last_name,email\n"Lovelace, Ada","O\'Brien ""Bob"", Jr",ada@example.org\n',
            [("Lovelace, Ada", 'O\'Brien "Bob", Jr', "ada@example.org")],
            id="quoted-commas-and-quotes",
        ),
        pytest.param(
            "\n".join(
                ["first_name,last_name,email", "", "Ada,L,ada@example.org", "", "", "Alan,T,alan@example.org", ""]
            ),
            [("Ada", "L", "ada@example.org"), ("Alan", "T", "alan@example.org")],
            id="blank-lines",
        ),
        pytest.param(
            " first_name , last_name,email \nAda,L,ADA@Example.ORG\n",
            [("Ada", "L", "ada@example.org")],
            id="spaced-header-and-mixed-case-email",
        ),
        pytest.param(
            "email,last_name,first_name\nada@example.org,L,Ada\n", [("Ada", "L", "ada@example.org")], id="any-order"
        ),
    ],
)
def test_awkward_but_valid_csv_imports(cli, tmp_path, content, expected):
    result = cli("patient", "import", write(tmp_path, "p.csv", content), "-o", "json")
    assert report(result) == {"read": len(expected), "written": len(expected), "rejected": []}
    assert [(p["first_name"], p["last_name"], p["email"]) for p in stored(cli)] == expected


NAMES = ["Zoë Ångström", "李小龙", "🩺 Doc 😷", "Robert'); DROP TABLE patients;--", "50%_off \\ `x` ; --"]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_unicode_emoji_and_sql_metacharacters_are_stored_verbatim(cli, tmp_path, fmt):
    rows = [{"first_name": name, "last_name": "Ünïcode", "email": f"p{n}@example.org"} for n, name in enumerate(NAMES)]
    cli("patient", "import", write(tmp_path, f"p.{fmt}", ENCODE[fmt](rows)))
    assert [(p["first_name"], p["last_name"]) for p in stored(cli)] == [(name, "Ünïcode") for name in NAMES]


def test_unicode_email_is_normalised_like_add(cli, tmp_path):
    cli("patient", "import", write(tmp_path, "p.csv", "first_name,last_name,email\nZoë,Ä,Zoë@Bücher.DE\n"))
    cli("patient", "add", "--first-name", "Z", "--last-name", "Z", "--email", "zoë@bücher.de", expect=5)


@pytest.fixture
def clinic(cli, tmp_path):
    cli("patient", "import", write(tmp_path, "setup.ndjson", as_ndjson([ADA])))
    cli("doctor", "add", "--full-name", "Dr One", "--specialization", "General")
    return cli


APPOINTMENT_FIELDS = ["patient_id", "doctor_id", "start_time", "duration_minutes", "reason"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_newlines_keep_physical_line_numbers(clinic, tmp_path, newline):
    rows = [
        {"patient_id": 1, "doctor_id": 1, "start_time": "2031-01-06T09:00", "duration_minutes": 30,
         "reason": f"first line{newline}second, with comma"},  # lines 2-3
        {"patient_id": 1, "doctor_id": 1, "start_time": "2031-01-06T10:00", "duration_minutes": 14},  # line 4
        {"patient_id": 1, "doctor_id": 1, "start_time": "2031-01-06T11:00", "duration_minutes": 30,
         "reason": f'a{newline}b{newline}"c"'},  # lines 5-7
        {"patient_id": 1, "doctor_id": 1, "start_time": "2031-01-06T11:15", "duration_minutes": 30},  # line 8
    ]  # fmt: skip
    path = write(tmp_path, "a.csv", as_csv(rows, APPOINTMENT_FIELDS, newline=newline))
    result = clinic("appointment", "import", path, "--skip-invalid", "-o", "json", expect=3)
    assert rejected(result) == [(4, "duration_minutes", "invalid"), (8, "start_time", "conflict")]
    assert "line 4: duration_minutes:" in result.stderr
    assert "\nline 8: start_time: doctor 1 is already booked" in result.stderr
    reasons = [a["reason"] for a in json_out(clinic("appointment", "list", "-o", "json"))]
    assert reasons == [f"first line{newline}second, with comma", f'a{newline}b{newline}"c"']


def test_ndjson_lines_count_blank_lines_and_crlf(cli, tmp_path):
    content = "\r\n".join([json.dumps(ADA), "", json.dumps({**ALAN, "email": "nope"}), "   ", "{", ""])
    result = cli("patient", "import", write(tmp_path, "p.ndjson", content), "-o", "json", expect=3)
    assert rejected(result) == [(3, "email", "invalid"), (5, "record", "invalid")]


# --- hostile input: the whole file is refused ---------------------------------------------------------------------

GOOD_ROW = json.dumps(ADA)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file: is empty: a CSV import needs a header row"),
        ("empty.json", b"", "file: is not a JSON array of objects (it must start with '[')"),
        ("object.json", GOOD_ROW, "file: is not a JSON array of objects (it must start with '[')"),
        ("truncated.json", f'[{GOOD_ROW}, {{"first_na', "file: is not valid JSON at element 2"),
        ("unclosed.json", f"[{GOOD_ROW}", "file: is not valid JSON after element 1 (expected ',' or ']')"),
        ("missing_comma.json", f"[{GOOD_ROW} {GOOD_ROW}]", "file: is not valid JSON after element 1"),
        ("bad.csv", b"first_name,last_name,email\nAda\xff\xfe,L,ada@example.org\n", "file: is not UTF-8 text"),
        ("bad.json", b'[{"first_name": "Ada\xff\xfe"}]', "file: is not UTF-8 text"),
        ("bad.ndjson", b'{"first_name": "Ada\xff\xfe"}\n', "file: is not UTF-8 text"),
        ("utf16.csv", "first_name,last_name,email\n".encode("utf-16"), "file: is not UTF-8 text"),
        (
            "latin1.csv",
            "first_name,last_name,email\nZoë,L,z@example.org\n".encode("latin-1"),
            "file: is not UTF-8 text",
        ),
        ("unknown.csv", "first_name,last_name,email,nickname\nAda,L,a@example.org,Ace\n", 'header: "nickname" is not'),
        ("status.csv", "first_name,last_name,email,status\n", 'header: "status" is not a patient field'),
        (
            "twice.csv",
            "email,first_name,email,last_name\n",
            'header: "email" names a column twice',
        ),
        ("unterminated.csv", 'first_name,last_name,email\n"Ada,L,ada@example.org\n', "file: cannot be read as CSV"),
    ],
)
def test_unreadable_input_exits_3_and_writes_nothing(cli, tmp_path, name, content, message):
    result = cli("patient", "import", write(tmp_path, name, content), "-o", "json", expect=3)
    assert_file_refused(result, message)
    assert stored(cli) == []


def test_unknown_column_names_the_column_and_lists_the_real_ones(cli, tmp_path):
    result = cli("patient", "import", write(tmp_path, "p.csv", "first_name,last_name,email,nickname\n"), expect=3)
    assert result.stderr.splitlines()[-2:] == ['error: header: "nickname" is not a patient field', PATIENT_HINT]


def test_stdin_bytes_that_are_not_utf8_exit_3(cli):
    result = cli("patient", "import", "-", "--format", "csv", "-o", "json", input=b"first_name\n\xff\n", expect=3)
    assert_file_refused(result, "file: is not UTF-8 text")


@pytest.mark.parametrize(
    ("fmt", "line", "field"), [("csv", None, None), ("json", None, None), ("ndjson", 1, "first_name")]
)
def test_a_10_mb_field_is_refused_quickly(cli, tmp_path, fmt, line, field):
    huge = {**ADA, "first_name": "x" * 10_000_000}
    result = cli("patient", "import", write(tmp_path, f"huge.{fmt}", ENCODE[fmt]([huge])), "-o", "json", expect=3)
    if fmt == "csv":  # the reader's field limit stops it before the value is ever parsed
        assert_file_refused(result, "file: cannot be read as CSV at line 2: field larger than field limit")
    elif fmt == "json":  # an array element is read up to a limit, so a broken one cannot fill memory
        assert_file_refused(result, "file: is not valid JSON within 4 MiB of element 1")
    else:
        assert rejected(result) == [(line, field, "invalid")]
        assert "must be 1 to 100 characters" in json_out(result)["rejected"][0]["message"]
    assert len(result.stdout) + len(result.stderr) < 2000  # the value is clipped, never echoed
    assert stored(cli) == []


# --- hostile input: one record is unreadable, the others are still checked ----------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param(
            "mixed.json", f'[{GOOD_ROW}, 3, null, [1], "x", true]',
            [(n, "record", "invalid", "record is not a JSON object") for n in (2, 3, 4, 5, 6)],
            id="json-non-objects",
        ),
        pytest.param(
            "bad.ndjson", f"{GOOD_ROW}\n\n{{oops\n[1]\n\"x\"\n",
            [(3, "record", "invalid", "record is not valid JSON (Expecting property name enclosed in double quotes)"),
             (4, "record", "invalid", "record is not a JSON object but list"),
             (5, "record", "invalid", "record is not a JSON object but str")],
            id="ndjson-not-json",
        ),
        pytest.param(
            "fields.csv", "first_name,last_name,email\nAda,L\nAda,L,ada@example.org,extra\nAlan,T,alan@example.org\n",
            [(2, "record", "invalid", "record has 2 fields but the header has 3"),
             (3, "record", "invalid", "record has 4 fields but the header has 3")],
            id="csv-field-count",
        ),
        pytest.param(
            "extra.json", json.dumps([ADA, {**ALAN, "nickname": "Al"}]),
            [(2, "nickname", "invalid", "nickname: is not a patient field")],
            id="json-unknown-key",
        ),
        pytest.param(
            "extra.ndjson", as_ndjson([{**ADA, "status": "booked"}]),
            [(1, "status", "invalid", "status: is not a patient field")],
            id="ndjson-appointment-only-key",
        ),
    ],
)  # fmt: skip
def test_unreadable_records_are_rejected_rows(cli, tmp_path, name, content, expected):
    result = cli("patient", "import", write(tmp_path, name, content), "-o", "json", expect=3)
    assert [(r["line"], r["field"], r["type"], r["message"]) for r in json_out(result)["rejected"]] == expected
    assert "Traceback" not in result.stderr
    assert stored(cli) == []


# --- bugs ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(f" [{json.dumps(ALAN)}]", id="second-array"),
        pytest.param(f"\n{json.dumps(ALAN)}\n", id="stray-object"),
        pytest.param(" junk", id="junk"),
    ],
)
def test_data_after_the_json_array_is_an_error(cli, tmp_path, tail):
    result = cli("patient", "import", write(tmp_path, "p.json", json.dumps([ADA]) + tail), "-o", "json", expect=3)
    assert "Traceback" not in result.stderr
    assert stored(cli) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("deep.json", "[" + "[" * 100_000 + "]" * 100_000 + "]", id="nested-json"),
        pytest.param("deep.ndjson", '{"first_name": ' + "[" * 100_000 + "]" * 100_000 + "}\n", id="nested-ndjson"),
        pytest.param("digits.json", '[{"first_name": ' + "1" * 5000 + "}]", id="digits-json"),
        pytest.param("digits.ndjson", '{"first_name": ' + "1" * 5000 + "}\n", id="digits-ndjson"),
    ],
)
def test_pathological_json_exits_3(cli, tmp_path, name, content):
    result = cli("patient", "import", write(tmp_path, name, content), "-o", "json", expect=3)
    assert "internal error" not in result.stderr
