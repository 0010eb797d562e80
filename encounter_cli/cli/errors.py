"""The one place where errors become exit codes and messages (README: Exit codes); the codes are `errors.STATUSES`."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Collection, Sequence
from typing import Any

import typer
from typer._click import exceptions as usage  # Typer's own copy of Click (0.26 on), whose errors these are
from typer.core import TyperGroup

from encounter_cli.cli.output import printable
from encounter_cli.errors import EncounterError, ExitStatus, InvalidInput, statuses

# Typer's own usage errors and exits keep their codes; `report_usage` words the usage errors.
FRAMEWORK_EXCEPTIONS = (typer.Exit, typer.Abort, typer.TyperException)
REPORT_HINT = "this is a bug in encounter; please report it with the output of the same command run with --debug"
# A service names the field; the command line names the option the user typed. Without an entry here the
# option is the field's name in dashes (email: --email); the first of the command's own options wins.
FIELD_OPTIONS: dict[str, tuple[str, ...]] = {
    "date_of_birth": ("--dob",),
    "duration_minutes": ("--duration",),
    "start_time": ("--start", "--from"),
    "end_time": ("--to",),
    "patient_id": ("--patient",),
    "doctor_id": ("--doctor",),
}


COMMAND_META_KEY = "encounter.command"


class CommandGroup(TyperGroup):
    """A group of commands that notes which one the arguments name, so an error can name its options."""

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:  # type: ignore[override]
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[COMMAND_META_KEY] = command  # meta is shared: the deepest group leaves the command itself
        return name, command, rest


def exit_status(error: EncounterError) -> ExitStatus:
    return statuses(error.kind)[0]


def option_of(field: str, options: Collection[str]) -> str | None:
    """The option among `options` (those of the command that failed) through which `field` was typed."""
    candidates = FIELD_OPTIONS.get(field, ("--" + field.replace("_", "-"),))
    return next((option for option in candidates if option in options), None)


def report(error: BaseException, *, json_errors: bool, debug: bool, options: Collection[str] = ()) -> ExitStatus:
    """Print `error` on stderr the way the README's Exit codes section says and return the exit status to use.

    `options`: the failing command's own options, so the message people read names `--dob` where they typed it;
    the JSON line keeps the field's name, in the words the API and an import's report use."""
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
    _print_error(kind, status, message, hint, details, json_errors, for_people=_as_typed(error, options))
    return status


def _as_typed(error: BaseException, options: Collection[str]) -> str | None:
    """The message naming the option through which the failing field was typed, if it was."""
    if not isinstance(error, InvalidInput) or not error.field:
        return None
    option = option_of(error.field, options)
    other = option_of(error.other, options) if error.other else None
    return error.named(option, other) if option else None


def report_usage(error: usage.ClickException, args: Sequence[str]) -> int:
    """A usage error (exit 2) in the same one-line style as every other error, and its JSON line under -o json."""
    context = getattr(error, "ctx", None)
    hint = f"try '{context.command_path} --help'" if context is not None else None
    details: dict[str, Any] = {}
    if isinstance(error, usage.BadParameter) and error.param is not None and error.param.opts:
        details["option"] = error.param.opts[0]
    _print_error("usage", error.exit_code, error.format_message(), hint, details, wants_json(args, context))
    return error.exit_code


def wants_json(args: Sequence[str], context: Any = None) -> bool:
    """Whether `-o json` was asked for, read from the raw arguments: a usage error may stop before they are parsed.

    The value of another option (`--reason -ojson`) is skipped when the failing command's options are known."""
    chosen = os.environ.get("ENCOUNTER_OUTPUT", "")
    takes_value = _options_with_values(context)
    remaining = iter(args)
    for arg in remaining:
        if arg == "--":
            break
        if arg in ("-o", "--output"):
            chosen = next(remaining, "")
        elif arg.startswith("--output="):
            chosen = arg.split("=", 1)[1]
        elif arg.startswith("-o") and not arg.startswith("--"):
            chosen = arg[2:]
        elif arg in takes_value:
            next(remaining, None)  # its value, whatever it looks like
    return chosen == "json"


def _options_with_values(context: Any) -> set[str]:
    """The options of `context`'s command and of its parents that take a value (`--reason TEXT`, `--db URL`)."""
    names: set[str] = set()
    while context is not None:
        for param in context.command.params:
            if param.param_type_name == "option" and not getattr(param, "is_flag", False):
                names.update(param.opts)
        context = context.parent
    return names


def _print_error(
    kind: str,
    status: int,
    message: str,
    hint: str | None,
    details: dict,
    json_errors: bool,
    for_people: str | None = None,
) -> None:
    # Messages quote input and stored values: escape sequences in them must not reach the terminal.
    print(f"error: {printable(for_people or message)}", file=sys.stderr)
    if hint:
        print(f"hint: {printable(hint)}", file=sys.stderr)
    if json_errors:
        body = {"type": kind, "exit_code": int(status), "message": message, "details": details}
        print(json.dumps({"error": body}, ensure_ascii=False, default=str), file=sys.stderr)
