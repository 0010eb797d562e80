"""CSV cells that a spreadsheet would run as formulas, and the round trip back.

A cell starting with `= + - @`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection). The usual defence,
which spreadsheets show as plain text, is a leading apostrophe: `'=1+2`.
The import side calls `unescape_formula` on every CSV cell, so exported
files re-import as the values they came from, phones like `+44 20 ...` included.

One apostrophe is added or removed at a time, and only in front of text
whose first character after its leading apostrophes is a trigger: so a value
that itself starts with `'=` gets a second apostrophe on the way out and
loses only that one on the way back.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(cell: str) -> str:
    """The cell as a spreadsheet shows it as text: a leading `'` when it could start a formula."""
    return "'" + cell if cell.lstrip("'").startswith(FORMULA_TRIGGERS) else cell


def escape_ambiguous(cell: str) -> str:
    """For plain CSV: only a value that `unescape_formula` would change gets its extra `'`."""
    return "'" + cell if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_TRIGGERS) else cell


def unescape_formula(cell: str) -> str:
    """Undo `escape_formula` (and `escape_ambiguous`): `'` before a trigger is dropped, anything else unchanged."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_TRIGGERS) else cell
