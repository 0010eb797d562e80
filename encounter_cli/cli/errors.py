"""The one place where errors become exit codes and messages (README: Exit codes); the codes are `errors.STATUSES`."""

from __future__ import annotations

import json
import sys
import traceback

import typer

from encounter_cli.cli.output import printable
from encounter_cli.errors import EncounterError, ExitStatus, statuses

# Typer's own usage errors and exits keep their codes and messages.
FRAMEWORK_EXCEPTIONS = (typer.Exit, typer.Abort, typer.TyperException)
REPORT_HINT = "this is a bug in encounter; please report it with the output of the same command run with --debug"


def exit_status(error: EncounterError) -> ExitStatus:
    return statuses(error.kind)[0]


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
