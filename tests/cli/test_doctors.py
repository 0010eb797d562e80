"""`encounter doctor ...` through CliRunner."""

from __future__ import annotations

from tests.helpers import error_json, json_out

HOUSE = ("doctor", "add", "--full-name", "Gregory House", "--specialization", "Diagnostics")


def test_add_show_and_list(cli):
    doctor = json_out(cli(*HOUSE, "-o", "json"))
    assert (doctor["id"], doctor["full_name"], doctor["is_active"]) == (1, "Gregory House", True)
    cli("doctor", "add", "--full-name", "Lisa Cuddy", "--specialization", "Endocrinology", "--inactive")
    assert json_out(cli("doctor", "show", "2", "-o", "json"))["is_active"] is False
    assert [d["id"] for d in json_out(cli("doctor", "list", "-o", "json"))] == [1, 2]
    assert [d["id"] for d in json_out(cli("doctor", "list", "--active", "-o", "json"))] == [1]
    assert [d["id"] for d in json_out(cli("doctor", "list", "--inactive", "-o", "json"))] == [2]
    assert [d["id"] for d in json_out(cli("doctor", "list", "--specialization", "ENDO", "-o", "json"))] == [2]
    assert "false" in cli("doctor", "list", "-o", "csv").stdout.splitlines()[2]


def test_deactivate_keeps_appointments_and_says_how_many_remain(cli):
    cli(*HOUSE)
    cli("patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    cli("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T09:00", "--duration", "30")
    result = cli("doctor", "deactivate", "1", "-o", "json")
    assert json_out(result)["is_active"] is False
    assert "1 future booked appointment(s) remain" in result.stderr
    assert json_out(cli("appointment", "show", "1", "-o", "json"))["status"] == "booked"
    booking = cli(
        "appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T10:00",
        "--duration", "30", "-o", "json", expect=5,
    )  # fmt: skip
    assert error_json(booking)["details"]["field"] == "doctor_id"
    assert json_out(cli("doctor", "activate", "1", "-o", "json"))["is_active"] is True
    cli("appointment", "book", "--patient", "1", "--doctor", "1", "--start", "2031-01-06T10:00", "--duration", "30")


def test_invalid_and_missing_doctors(cli):
    cli("doctor", "add", "--full-name", "", "--specialization", "X", expect=3)
    cli("doctor", "show", "7", expect=4)
    cli("doctor", "deactivate", "7", expect=4)
    cli("doctor", "add", "--full-name", "X", expect=2)


def test_list_searches_the_name_in_any_order(cli):
    cli(*HOUSE)
    cli("doctor", "add", "--full-name", "Lisa Cuddy", "--specialization", "Endocrinology", "--inactive")
    cli("doctor", "add", "--full-name", "Dr. Élise House", "--specialization", "Endocrinology")

    def found(*options: str) -> list[int]:
        return [d["id"] for d in json_out(cli("doctor", "list", *options, "-o", "json"))]

    assert found("--search", "house gregory") == [1]
    assert found("--search", "HOUSE") == [1, 3]
    assert found("--search", "élise") == [3]
    assert found("--search", "house", "--specialization", "endo") == [3]
    assert found("--search", "cuddy", "--active") == []
    assert found("--search", "%") == []
