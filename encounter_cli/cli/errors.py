"""The one place where errors become exit codes and messages (README: Exit codes)."""

from __future__ import annotations

import json
import sys
import traceback
from enum import IntEnum

import typer

from encounter_cli.cli.output import printable
from encounter_cli.errors import Conflict, EncounterError, InvalidInput, NotFound, Unavailable


class ExitStatus(IntEnum):
    SUCCESS = 0
    INTERNAL = 1
    USAGE = 2
    INVALID = 3
    NOT_FOUND = 4
    CONFLICT = 5
    UNAVAILABLE = 6
    INTERRUPTED = 130


EXIT_CODES: dict[str, ExitStatus] = {
    InvalidInput.kind: ExitStatus.INVALID,
    NotFound.kind: ExitStatus.NOT_FOUND,
    Conflict.kind: ExitStatus.CONFLICT,
    Unavailable.kind: ExitStatus.UNAVAILABLE,
}
# Typer's own usage errors and exits keep their codes and messages.
FRAMEWORK_EXCEPTIONS = (typer.Exit, typer.Abort, typer.TyperException)
REPORT_HINT = "this is a bug in encounter; please report it with the output of the same command run with --debug"


def exit_status(error: EncounterError) -> ExitStatus:
    return EXIT_CODES.get(error.kind, ExitStatus.INTERNAL)


def report(error: BaseException, *, json_errors: bool, debug: bool) -> ExitStatus:
    """Print `error` on stderr the way the README's Exit codes section says and return the exit status to use."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, KeyboardInterrupt):
        message = "interrupted; the unfinished transaction was rolled back"
        status, kind, hint, details = ExitStatus.INTERRUPTED, "interrupted", None, {}
    elif isinstance(error, EncounterError):
        status, kind, message, hint, details = exit_status(error), error.kind, error.message, error.hint, error.details
    else:
        status, kind, hint, details = ExitStatus.INTERNAL, "internal", REPORT_HINT, {}
        message = f"internal error: {type(error).__name__}"
    # Messages quote input and stored values: escape sequences in them must not reach the terminal.
    print(f"error: {printable(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {printable(hint)}", file=sys.stderr)
    if json_errors:
        body = {"type": kind, "exit_code": int(status), "message": message, "details": details}
        print(json.dumps({"error": body}, ensure_ascii=False, default=str), file=sys.stderr)
    return status
