"""CSV formula escaping (D4): what a spreadsheet would run is shown as text, and import gets the value back."""

from __future__ import annotations

import pytest

from encounter_cli.csv_cells import escape_ambiguous, escape_formula, unescape_formula

VALUES = [
    "=1+2",
    '=HYPERLINK("http://evil.example","click")',
    "+44 20 7946 0000",
    "-5",
    "@SUM(A1)",
    "\tindented",
    "\rreturn",
    "'=already quoted",  # a value that itself starts with an apostrophe and a trigger
    "''+twice",
    "'",
    "''",
    "'plain",
    "O'Brien",
    "plain",
    "",
    "1+2",
    "a=b",
    "2031-01-06T09:00:00-05:00",
    "Zoë",
]


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("'plain", "'plain"),
        ("1+2", "1+2"),
        ("", ""),
        ("'", "'"),
    ],
)
def test_escape_formula_prefixes_cells_a_spreadsheet_would_run(cell, escaped):
    assert escape_formula(cell) == escaped


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("'=1+2", "=1+2"),
        ("'+44 20 7946 0000", "+44 20 7946 0000"),
        ("'-5", "-5"),
        ("'@x", "@x"),
        ("'\tx", "\tx"),
        ("'\rx", "\rx"),
        ("''=x", "'=x"),
        ("+44 20 7946 0000", "+44 20 7946 0000"),  # a plain export's phone is left alone
        ("'plain", "'plain"),
        ("O'Brien", "O'Brien"),
        ("'", "'"),
        ("", ""),
        ("=1+2", "=1+2"),
    ],
)
def test_unescape_formula_drops_only_an_apostrophe_before_a_trigger(cell, value):
    assert unescape_formula(cell) == value


@pytest.mark.parametrize("value", VALUES)
def test_both_csv_forms_round_trip_through_unescape(value):
    assert unescape_formula(escape_formula(value)) == value
    assert unescape_formula(escape_ambiguous(value)) == value


@pytest.mark.parametrize("value", VALUES)
def test_a_safe_cell_never_starts_a_formula(value):
    assert not escape_formula(value).startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("value", ["=1+2", "+44 20 7946 0000", "plain", "'plain", ""])
def test_plain_csv_changes_only_values_import_would_misread(value):
    assert escape_ambiguous(value) == value
    assert escape_ambiguous("'=x") == "''=x"
